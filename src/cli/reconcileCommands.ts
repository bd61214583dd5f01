import { InvalidArgumentError, type Command } from "commander";
import type { Config } from "../config.js";
import { checkRunDate, todayUtc } from "../reconcile/checkRunDate.js";
import { listRunsByDay } from "../reconcile/listRunsByDay.js";
import { readUserLine, type RunSummary, type UserLineView } from "../reconcile/readReports.js";
import { readDayReport } from "../providerSync/readDayReport.js";
import { readTopDeltas } from "../reconcile/readTopDeltas.js";
import { reconcileJob } from "../reconcile/reconcileJob.js";
import { revertRun } from "../reconcile/revertRun.js";
import type { PrunedArchive } from "../reconcile/readArchives.js";
import { signChain } from "../reconcile/signChain.js";
import { verifyArchive } from "../reconcile/verifyArchive.js";
import { registerArchiveCommands } from "./reportArchiveCommands.js";
import { describeProblem, verifyReports, type Verdict } from "../reconcile/verifyReports.js";
import type { Db } from "../storage/openDatabase.js";
import { outputOptions, printResult, type OutputOptions } from "./output.js";
import { startProgress } from "./progress.js";
import {
  describeReconcile,
  describeReport,
  describeRevert,
  describeRunList,
  describeSign,
  describeUserLine,
  describeVerify,
  SHOWN_DELTAS,
} from "./reconcileSummaries.js";
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

const DAY_MS = 86_400_000;

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
  const reconcile = outputOptions(
    program
      .command("reconcile")
      .description("reconcile every wallet against its ledger for a date (default today, UTC)")
      .option("--date <YYYY-MM-DD>", "the date of the run", runDate)
      .option("--join", "share a run already in progress for the date (several instances)"),
  ).action(async (options: { date?: string; join?: boolean } & OutputOptions) => {
    const cfg = config();
    const progress = startProgress({ label: "reconcile", unit: "users", logLevel: cfg.logLevel });
    await withDb(config, async (db) => {
      const outcome = await reconcileJob(db, cfg, {
        ...(options.date ? { date: options.date } : {}),
        mode: options.join ? "join" : "start",
        now: () => new Date(),
        logger: progress.logger,
        onProgress: (p) => progress.update({ done: p.usersChecked, total: Math.max(p.usersTotal, p.usersChecked), detail: `${p.chunksDone} of ${p.chunksTotal} chunks` }),
      }).finally(() => progress.stop());
      await printResult(options, {
        json: () => JSON.stringify(outcome),
        human: async (style) =>
          describeReconcile(outcome, outcome.outcome === "completed" ? await readTopDeltas(db.kysely, outcome.run.runId, SHOWN_DELTAS) : [], style),
      });
      if (outcome.outcome !== "completed" && outcome.outcome !== "shared") process.exitCode = 1;
    });
  });

  outputOptions(
    reconcile
      .command("revert")
      .description("reverse every heal the latest run of a date made, with new entries")
      .requiredOption("--date <YYYY-MM-DD>", "the date of the run", runDate),
  ).action(async (options: { date: string } & OutputOptions) => {
    const outcome = await withDb(config, (db) => revertRun(db, { date: options.date, actor: "cli", now: () => new Date() }));
    await printResult(options, { json: () => JSON.stringify(outcome), human: (style) => describeRevert(options.date, outcome, style) });
    // A line the ledger refused is not reverted: the operator has something left to do.
    if (outcome.outcome !== "reverted" || outcome.refused.length > 0) process.exitCode = 1;
  });

  const reports = program.command("reports").description("reconciliation reports");
  outputOptions(
    reports
      .command("list")
      .description("each date's latest run, oldest first (default: the last 30 days)")
      .option("--from <YYYY-MM-DD>", "the first date", runDate)
      .option("--to <YYYY-MM-DD>", "the last date (default today, UTC)", runDate),
  ).action(async (options: { from?: string; to?: string } & OutputOptions) => {
    const to = options.to ?? todayUtc(new Date());
    const from = options.from ?? new Date(Date.parse(`${to}T00:00:00.000Z`) - 29 * DAY_MS).toISOString().slice(0, 10);
    const runs = await withDb(config, (db) => listRunsByDay(db.kysely, from, to));
    await printResult(options, { json: () => JSON.stringify(runs, null, 2), human: (style) => describeRunList(runs, from, to, style) });
  });
  outputOptions(
    reports
      .command("show")
      .description("a date's run summary, or one user's line")
      .requiredOption("--date <YYYY-MM-DD>", "the date of the run", runDate)
      .option("--uid <uid>", "one user's line"),
  ).action(async (options: { date: string; uid?: string } & OutputOptions) => {
    await withDb(config, async (db) => {
      const shown: RunSummary | UserLineView | null = options.uid ? await readUserLine(db.kysely, options.date, options.uid) : await readDayReport(db.kysely, options.date);
      if (!shown) {
        console.error(`no report for ${options.date}${options.uid ? ` and user ${options.uid}` : ""}`);
        process.exitCode = 1;
        return;
      }
      await printResult(options, {
        json: () => JSON.stringify(shown, null, 2),
        human: async (style) =>
          "uid" in shown ? describeUserLine(shown, style) : describeReport(shown, await readTopDeltas(db.kysely, shown.runId, SHOWN_DELTAS), style),
      });
    });
  });
  outputOptions(
    reports
      .command("verify")
      .description("recompute line hashes, run checksums and the chain; name anything altered (or check an archive file)")
      .option("--date <YYYY-MM-DD>", "only the runs of this date", runDate)
      .option("--all", "every run (the default)")
      .option("--archive <file>", "check an archive file made by reports archive instead of the database"),
  ).action(async (options: { date?: string; all?: boolean; archive?: string } & OutputOptions) => {
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
        ? { runsChecked: result.runs.length, linesChecked: result.lines, findingsChecked: result.findings, positions: result.trailer ? [result.trailer.firstPosition, result.trailer.lastPosition] : null, fileSha256: result.fileSha256 }
        : { runsChecked: result.runsChecked, linesChecked: result.linesChecked, findingsChecked: result.findingsChecked, head: result.head, archived: archivedRange(result.archived) };
    if ("archived" in scope && scope.archived) console.error(scope.archived.note);
    await printResult(options, {
      json: () => JSON.stringify({ verdict: result.verdict, ok: result.ok, problems: result.problems.length, ...scope }),
      human: (style) =>
        describeVerify(
          {
            verdict: result.verdict,
            runsChecked: scope.runsChecked,
            linesChecked: scope.linesChecked,
            findingsChecked: scope.findingsChecked,
            problems: result.problems.length,
            head: ("head" in scope ? scope.head : null) ?? null,
            archive: options.archive ?? null,
          },
          verdict.note,
          style,
        ),
    });
    process.exitCode = verdict.exitCode;
  });
  outputOptions(
    reports.command("sign").description("sign the completed runs that have no signature and anchor them, once the chain verifies (adopting a key)"),
  ).action(async (options: OutputOptions) => {
    const cfg = config();
    const outcome = await withDb(config, (db) => signChain(db.kysely, cfg.reports));
    if (outcome.outcome === "chain_has_problems") for (const problem of outcome.problems) console.error(describeProblem(problem));
    await printResult(options, {
      json: () => JSON.stringify(outcome.outcome === "chain_has_problems" ? { outcome: outcome.outcome, problems: outcome.problems.length } : outcome),
      human: (style) => describeSign(outcome, style),
    });
    if (outcome.outcome !== "signed") process.exitCode = 1;
  });
  registerArchiveCommands(reports, config, runDate);
}
