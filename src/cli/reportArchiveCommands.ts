import type { Command } from "commander";
import type { Config } from "../config.js";
import { archiveReports } from "../reconcile/archiveReports.js";
import { pruneReports } from "../reconcile/pruneReports.js";
import { describeProblem } from "../reconcile/reportProblems.js";
import { withDatabase } from "./withDatabase.js";

/** `reckon reports archive|prune`: thin calls into src/reconcile (docs/decisions/report-archive-and-prune.md). */
export function registerArchiveCommands(reports: Command, config: () => Config, runDate: (value: string) => string): void {
  reports
    .command("archive")
    .description("write the chained runs dated before D, with every line, to a verified gzip file and record it (nothing is deleted)")
    .requiredOption("--before <YYYY-MM-DD>", "archive runs dated before this day", runDate)
    .requiredOption("--file <path>", "the archive file to create (never overwritten)")
    .action(async (options: { before: string; file: string }) => {
      const cfg = config();
      const outcome = await withDatabase(cfg, (db) => archiveReports(db.kysely, { before: options.before, file: options.file, now: new Date(), reports: cfg.reports }));
      if (outcome.outcome === "chain_has_problems") for (const problem of outcome.problems) console.error(describeProblem(problem));
      console.log(JSON.stringify(outcome.outcome === "chain_has_problems" ? { outcome: outcome.outcome, problems: outcome.problems.length } : outcome));
      if (outcome.outcome !== "archived") process.exitCode = 1;
    });
  reports
    .command("prune")
    .description("delete the runs dated before D and their lines, only where a verified archive holds them")
    .requiredOption("--before <YYYY-MM-DD>", "prune runs dated before this day", runDate)
    .action(async (options: { before: string }) => {
      const outcome = await withDatabase(config(), (db) => pruneReports(db, { before: options.before, now: new Date(), partial: false }));
      if (outcome.outcome === "not_archived") {
        console.error(`chain position ${outcome.position} (${outcome.date}) is in no verified archive: run reckon reports archive --before ${options.before} --file F first; nothing was deleted`);
      }
      if (outcome.outcome === "archive_mismatch") console.error(`the runs archive ${outcome.id} recorded have changed in the database since; nothing was deleted`);
      console.log(JSON.stringify(outcome));
      if (outcome.outcome === "not_archived" || outcome.outcome === "archive_mismatch") process.exitCode = 1;
    });
}
