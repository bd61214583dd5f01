import { InvalidArgumentError, type Command } from "commander";
import { pino } from "pino";
import type { Config } from "../config.js";
import { checkRunDate } from "../reconcile/checkRunDate.js";
import { readReport, readUserLine } from "../reconcile/readReports.js";
import { reconcileJob } from "../reconcile/reconcileJob.js";
import { revertRun } from "../reconcile/revertRun.js";
import type { PrunedArchive } from "../reconcile/readArchives.js";
import { signChain } from "../reconcile/signChain.js";
import { verifyArchive } from "../reconcile/verifyArchive.js";
import { registerArchiveCommands } from "./reportArchiveCommands.js";
import { describeProblem, verifyReports, type Verdict } from "../reconcile/verifyReports.js";
import type { Db } from "../storage/openDatabase.js";
import { withDatabase } from "./withDatabase.js";

/** `reckon reconcile`, `reckon reconcile revert`, `reckon reports show|verify`: thin calls into src/reconcile. */

function runDate(value: string): string {
  const check = checkRunDate(value, new Date());
  if (!check.ok) throw new InvalidArgumentError(check.message);
  return check.date;
}

function withDb<T>(config: () => Config, work: (db: Db) => Promise<T>): Promise<T> {
  return withDatabase(config(), work);
}

function progressBar(done: number, total: number, users: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} chunks, ${users} users`;
}

/** What `reports verify` says besides the problems, and its exit code (0 only when verified). */
const VERDICTS: Record<Verdict, { exitCode: number; note: string | null }> = {
  verified: { exitCode: 0, note: null },
  failed: { exitCode: 1, note: null },
  unsigned: {
    exitCode: 2,
    note: "no problem found, but the chain is unsigned and unanchored (REPORT_SIGNING_KEY_FILE or REPORT_VERIFY_KEY_FILE, REPORT_ANCHOR_FILE): a rewrite that recomputed every hash, or deleted newest runs, would not show",
  },
  unanchored: {
    exitCode: 2,
    note: "no problem found and every run is signed, but the chain is unanchored (REPORT_ANCHOR_FILE): deleted newest runs would not show",
  },
};

/** The pruned part of the chain, as verify names it. */
function archivedRange(archived: PrunedArchive | null) {
  if (!archived) return null;
  const note = `chain positions 1-${archived.lastPosition} (through ${archived.lastDate}) are archived in ${archived.filePath} (sha256 ${archived.fileSha256}) and pruned; check it with reports verify --archive`;
  return { throughPosition: archived.lastPosition, throughDate: archived.lastDate, file: archived.filePath, fileSha256: archived.fileSha256, note };
}

export function registerReconcileCommands(program: Command, config: () => Config): void {
  // `reckon reconcile revert --date D`: options after a subcommand belong to the subcommand.
  program.enablePositionalOptions();
  const reconcile = program
    .command("reconcile")
    .description("reconcile every wallet against its ledger for a date (default today, UTC)")
    .option("--date <YYYY-MM-DD>", "the date of the run", runDate)
    .option("--join", "share a run already in progress for the date (several instances)")
    .action(async (options: { date?: string; join?: boolean }) => {
      const cfg = config();
      const tty = process.stderr.isTTY === true;
      const outcome = await withDb(config, (db) =>
        reconcileJob(db, cfg, {
          ...(options.date ? { date: options.date } : {}),
          mode: options.join ? "join" : "start",
          now: () => new Date(),
          logger: pino({ level: cfg.logLevel }, pino.destination(2)),
          ...(tty ? { onProgress: (p) => process.stderr.write(progressBar(p.chunksDone, p.chunksTotal, p.usersChecked)) } : {}),
        }),
      );
      if (tty) process.stderr.write("\n");
      console.log(JSON.stringify(outcome));
      if (outcome.outcome !== "completed" && outcome.outcome !== "shared") process.exitCode = 1;
    });

  reconcile
    .command("revert")
    .description("reverse every heal the latest run of a date made, with new entries")
    .requiredOption("--date <YYYY-MM-DD>", "the date of the run", runDate)
    .action(async (options: { date: string }) => {
      const outcome = await withDb(config, (db) => revertRun(db, { date: options.date, actor: "cli", now: () => new Date() }));
      console.log(JSON.stringify(outcome));
      // A line the ledger refused is not reverted: the operator has something left to do.
      if (outcome.outcome !== "reverted" || outcome.refused.length > 0) process.exitCode = 1;
    });

  const reports = program.command("reports").description("reconciliation reports");
  reports
    .command("show")
    .description("a date's run summary, or one user's line")
    .requiredOption("--date <YYYY-MM-DD>", "the date of the run", runDate)
    .option("--uid <uid>", "one user's line")
    .action(async (options: { date: string; uid?: string }) => {
      const shown = await withDb<object | null>(config, (db) =>
        options.uid ? readUserLine(db.kysely, options.date, options.uid) : readReport(db.kysely, options.date),
      );
      if (!shown) {
        console.error(`no report for ${options.date}${options.uid ? ` and user ${options.uid}` : ""}`);
        process.exitCode = 1;
        return;
      }
      console.log(JSON.stringify(shown, null, 2));
    });
  reports
    .command("verify")
    .description("recompute line hashes, run checksums and the chain; name anything altered (or check an archive file)")
    .option("--date <YYYY-MM-DD>", "only the runs of this date", runDate)
    .option("--all", "every run (the default)")
    .option("--archive <file>", "check an archive file made by reports archive instead of the database")
    .action(async (options: { date?: string; all?: boolean; archive?: string }) => {
      if (options.date && options.all) throw new InvalidArgumentError("give --date or --all, not both");
      if (options.archive && (options.date || options.all)) throw new InvalidArgumentError("--archive checks the whole file; leave out --date and --all");
      const cfg = config();
      const keys = { verifyKey: cfg.reports.keys.verifyKey, anchorFile: cfg.reports.anchorFile };
      const result = options.archive
        ? await verifyArchive(options.archive, keys)
        : await withDb(config, (db) => verifyReports(db.kysely, { ...(options.date ? { date: options.date } : {}), ...keys }));
      for (const problem of result.problems) console.error(describeProblem(problem));
      const verdict = VERDICTS[result.verdict];
      if (verdict.note) console.error(verdict.note);
      const scope =
        "fileSha256" in result
          ? { runsChecked: result.runs.length, linesChecked: result.lines, positions: result.trailer ? [result.trailer.firstPosition, result.trailer.lastPosition] : null, fileSha256: result.fileSha256 }
          : { runsChecked: result.runsChecked, linesChecked: result.linesChecked, head: result.head, archived: archivedRange(result.archived) };
      if ("archived" in scope && scope.archived) console.error(scope.archived.note);
      console.log(JSON.stringify({ verdict: result.verdict, ok: result.ok, problems: result.problems.length, ...scope }));
      process.exitCode = verdict.exitCode;
    });
  reports
    .command("sign")
    .description("sign the completed runs that have no signature and anchor them, once the chain verifies (adopting a key)")
    .action(async () => {
      const cfg = config();
      const outcome = await withDb(config, (db) => signChain(db.kysely, cfg.reports));
      if (outcome.outcome === "chain_has_problems") for (const problem of outcome.problems) console.error(describeProblem(problem));
      console.log(JSON.stringify(outcome.outcome === "chain_has_problems" ? { outcome: outcome.outcome, problems: outcome.problems.length } : outcome));
      if (outcome.outcome !== "signed") process.exitCode = 1;
    });
  registerArchiveCommands(reports, config, runDate);
}
