import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError, Option } from "commander";
import { backfillDeps } from "../backfill/backfillDeps.js";
import { backfillJob, type BackfillJobOutcome } from "../backfill/backfillJob.js";
import type { BackfillType } from "../backfill/BackfillRequest.js";
import { importEvents } from "../backfill/importEvents.js";
import { listBackfillRuns, readBackfillRun, type BackfillRun } from "../backfill/backfillRuns.js";
import { cancelBackfill, resumeBackfill } from "../backfill/resumeBackfill.js";
import type { Config } from "../config.js";
import { PROVIDERS, type Provider } from "../providers/PaymentEvent.js";
import type { Db } from "../storage/openDatabase.js";
import { unreachable } from "../unreachable.js";
import { describeBackfillList, describeBackfillRun, describeEventImport } from "./backfillSummaries.js";
import { outputOptions, printResult, type OutputOptions } from "./output.js";
import { startProgress, type ProgressReporter } from "./progress.js";
import { withDatabase } from "./withDatabase.js";

/** A failure the operator must act on: printed, exit code 1. */
class CommandRefused extends Error {}

function wholeNumber(value: string): number {
  if (!/^\d{1,12}$/.test(value)) throw new InvalidArgumentError("expected a whole number");
  return Number(value);
}

function withDb<T>(config: () => Config, work: (db: Db, cfg: Config) => Promise<T>): Promise<T> {
  const cfg = config();
  return withDatabase(cfg, (db) => work(db, cfg));
}

/**
 * The run's deps as the CLI gives them: progress (a bar, or log lines) on stderr, and
 * each event the run acts on logged (pino, JSON lines) on stderr; stdout keeps the record.
 */
function cliDeps(db: Db, cfg: Config, progress: ProgressReporter) {
  const onProgress = (record: BackfillRun, eventsTotal: number) =>
    progress.update({ done: record.scanned, total: Math.max(eventsTotal, record.scanned), detail: `${record.processed} applied, ${record.errors} errors` });
  return { ...backfillDeps(db, cfg, () => new Date(), onProgress), logger: progress.logger };
}

async function printRecord(options: OutputOptions, record: BackfillRun): Promise<void> {
  await printResult(options, { json: () => JSON.stringify(record, null, 2), human: (style) => describeBackfillRun(record, style) });
}

/** Waits for the run's end, closes the progress (whatever happens), then prints the record. */
async function printFinal(options: OutputOptions, progress: ProgressReporter, finished: () => Promise<BackfillRun>): Promise<void> {
  let record: BackfillRun;
  try {
    record = await finished();
  } finally {
    progress.stop();
  }
  await printRecord(options, record);
  if (record.status === "failed") process.exitCode = 1;
}

/** What the operator reads when the job refuses: the route's refusals, in the CLI's words. */
function refusalMessage(refused: Exclude<BackfillJobOutcome, { outcome: "started" }>): string {
  switch (refused.outcome) {
    case "feature_disabled":
      return `backfill is disabled (${refused.setting}=0)`;
    case "invalid_request": {
      const issue = refused.error.issues[0]!;
      return `${issue.path.join(".")}: ${issue.message}`;
    }
    case "beyond_limits":
      return refused.message;
    case "already_running":
      return `backfill ${refused.runningId} of this type is running; resume or cancel it`;
    case "plan_changed":
      return `plan_changed: approved ${refused.expected}, now ${refused.actual}; nothing applied`;
    case "provider_not_configured":
      return `no API key is configured for ${refused.provider}; set ${refused.provider === "paynow" ? "PAYNOW_API_KEY_FILE and PAYNOW_STORE_ID" : "STRIPE_API_KEY_FILE"}`;
  }
  return unreachable(refused, "backfill refusal");
}

interface RunOptions extends OutputOptions {
  from: string;
  to: string;
  dryRun?: boolean;
  maxEvents?: number;
  plan?: string;
  provider?: Provider;
}

async function run(config: () => Config, type: BackfillType, options: RunOptions): Promise<void> {
  await withDb(config, async (db, cfg) => {
    const progress = startProgress({ label: `backfill ${type}`, unit: "events", logLevel: cfg.logLevel });
    await printFinal(options, progress, async () => {
      const started = await backfillJob(cliDeps(db, cfg, progress), cfg, {
        type,
        startDate: options.from,
        endDate: options.to,
        dryRun: options.dryRun ?? false,
        ...(options.maxEvents === undefined ? {} : { maxEvents: options.maxEvents }),
        ...(options.plan === undefined ? {} : { planHash: options.plan }),
        ...(options.provider === undefined ? {} : { provider: options.provider }),
      });
      if (started.outcome !== "started") throw new CommandRefused(refusalMessage(started));
      return started.done;
    });
  });
}

/** `reckon backfill …`: thin commands over the functions the job route calls. */
export function registerBackfillCommands(program: Command, config: () => Config): void {
  const backfill = program.command("backfill").description("repair the ledger from what providers said");
  for (const [name, type] of [
    ["replay", "webhook_replay"],
    ["reversals", "reversal_backfill"],
  ] as const) {
    outputOptions(
      backfill
        .command(name)
        .description(type === "webhook_replay" ? "apply stored events that were not applied" : "create missing reversals for refunds and chargebacks")
        .requiredOption("--from <date>", "first day, YYYY-MM-DD (UTC)")
        .requiredOption("--to <date>", "last day, YYYY-MM-DD (UTC)")
        .option("--dry-run", "compute the plan and its hash; write nothing but the record")
        .option("--max-events <n>", "scan at most this many events", wholeNumber)
        .option("--plan <hash>", "apply only if the plan is still the one a dry run printed"),
    ).action((options: RunOptions) => run(config, type, options));
  }
  outputOptions(
    backfill
      .command("provider-sync")
      .description("compare a provider's own records with the ledger; repair missing deliveries, report the rest as findings")
      .addOption(new Option("--provider <provider>", "whose records").choices(PROVIDERS).makeOptionMandatory())
      .requiredOption("--from <date>", "first day, YYYY-MM-DD (UTC)")
      .requiredOption("--to <date>", "last day, YYYY-MM-DD (UTC)")
      .option("--dry-run", "list the findings and the plan's hash; write nothing but the record")
      .option("--max-events <n>", "read at most about this many provider records", wholeNumber)
      .option("--plan <hash>", "apply only if the plan is still the one a dry run printed"),
  ).action((options: RunOptions) => run(config, "provider_sync", options));
  outputOptions(backfill.command("resume <id>").description("continue an interrupted run from its cursor")).action((id: string, options: OutputOptions) =>
    withDb(config, async (db, cfg) => {
      const before = await readBackfillRun(db.kysely, id);
      const progress = startProgress({ label: `backfill resume ${id}`, unit: "events", logLevel: cfg.logLevel, initial: before?.scanned ?? 0 });
      await printFinal(options, progress, async () => {
        const resumed = await resumeBackfill(cliDeps(db, cfg, progress), id);
        if (resumed.outcome === "not_found") throw new CommandRefused(`no backfill run ${id}`);
        if (resumed.outcome === "not_resumable") throw new CommandRefused(`backfill run ${id} cannot be resumed: ${resumed.status}`);
        if (resumed.outcome === "still_running") throw new CommandRefused(`backfill run ${id} is still running (${resumed.holder ?? "another process"})`);
        return resumed.done;
      });
    }),
  );
  outputOptions(backfill.command("cancel <id>").description("stop a running backfill after its current batch")).action((id: string, options: OutputOptions) =>
    withDb(config, async (db) => {
      const record = await cancelBackfill({ db, now: () => new Date() }, id);
      if (!record) throw new CommandRefused(`no backfill run ${id}`);
      await printRecord(options, record);
    }),
  );
  outputOptions(backfill.command("list").description("the newest backfill records")).action((options: OutputOptions) =>
    withDb(config, async (db) => {
      const records = await listBackfillRuns(db.kysely, 50);
      await printResult(options, { json: () => JSON.stringify(records, null, 2), human: (style) => describeBackfillList(records, style) });
    }),
  );
  outputOptions(backfill.command("show <id>").description("one backfill record")).action((id: string, options: OutputOptions) =>
    withDb(config, async (db) => {
      const record = await readBackfillRun(db.kysely, id);
      if (!record) throw new CommandRefused(`no backfill run ${id}`);
      await printRecord(options, record);
    }),
  );
  outputOptions(
    backfill
      .command("import")
      .description("store deliveries that never arrived (one provider event JSON per line), for replay")
      .addOption(new Option("--provider <provider>", "whose events").choices(PROVIDERS).makeOptionMandatory())
      .requiredOption("--file <path>", "a JSON Lines file"),
  ).action((options: { provider: Provider; file: string } & OutputOptions) =>
    withDb(config, async (db, cfg) => {
      let text: string;
      try {
        text = readFileSync(options.file, "utf8");
      } catch (error) {
        throw new CommandRefused(`cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
      }
      const result = await importEvents(db, { provider: options.provider, text, environment: cfg.environment, now: new Date() });
      if (result.outcome === "invalid_lines") {
        for (const error of result.errors.slice(0, 50)) console.error(`${options.file}:${error.line}: ${error.problem}`);
        throw new CommandRefused(`${result.errors.length} malformed line(s); nothing imported`);
      }
      await printResult(options, { json: () => JSON.stringify(result), human: () => describeEventImport(result, options.file) });
    }),
  );
}
