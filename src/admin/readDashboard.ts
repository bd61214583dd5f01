import { listBackfillRuns, type BackfillRun } from "../backfill/backfillRuns.js";
import type { Config } from "../config.js";
import { listFlags, type FlagState } from "../flags/listFlags.js";
import { listRunsByDay, readLatestRun } from "../reconcile/listRunsByDay.js";
import type { RunSummary } from "../reconcile/readReports.js";
import { readTopDeltas, type DeltaLine } from "../reconcile/readTopDeltas.js";
import { describeProblem, verifyReports, type Verdict } from "../reconcile/verifyReports.js";
import { countFindings } from "../providerSync/storeFindings.js";
import type { Db } from "../storage/openDatabase.js";
import { listStuckEvents, type EventSummary } from "../webhooks/listStuckEvents.js";

/** Days the charts cover, ending today (UTC). */
export const CHART_DAYS = 30;
export const TOP_DELTAS = 10;
export const MIGRATIONS_SHOWN = 20;
export const STUCK_EVENTS_SHOWN = 50;

export interface DayFigures {
  date: string;
  /** Null on a day without a run: no run is not the same as no violation. */
  violations: number | null;
  adjustmentAbsTotal: number | null;
}

export interface VerifyStatus {
  verdict: Verdict;
  runsChecked: number;
  linesChecked: number;
  problems: string[];
  head: { position: number; date: string } | null;
}

/** Everything the overview shows, read from the database through each part's own read functions. */
export interface Dashboard {
  days: DayFigures[];
  lastRun: RunSummary | null;
  topDeltas: DeltaLine[];
  verify: VerifyStatus;
  migrations: BackfillRun[];
  stuck: { events: EventSummary[]; total: number };
  flags: FlagState[];
  /** Provider findings waiting for a person (`/admin/findings?status=open`). */
  openFindings: number;
}

const DAY_MS = 86_400_000;

/** The `count` calendar dates (UTC) ending with `now`'s, oldest first. */
export function chartDates(now: Date, count: number): string[] {
  const today = Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00.000Z`);
  return Array.from({ length: count }, (_, index) => new Date(today - (count - 1 - index) * DAY_MS).toISOString().slice(0, 10));
}

/**
 * Reads the overview. `reports verify` runs as the CLI runs it, with the configured key
 * and anchor, over the whole chain but recomputing the lines of the latest run's date
 * only, so the page stays fast however many runs there are.
 */
export async function readDashboard(db: Db, config: Config, now: Date): Promise<Dashboard> {
  const dates = chartDates(now, CHART_DAYS);
  const runs = await listRunsByDay(db.kysely, dates[0]!, dates.at(-1)!);
  const byDate = new Map(runs.map((run) => [run.date, run]));
  const lastRun = await readLatestRun(db.kysely);
  const verified = await verifyReports(db.kysely, {
    ...(lastRun ? { date: lastRun.date } : {}),
    verifyKey: config.reports.keys.verifyKey,
    anchorFile: config.reports.anchorFile,
  });
  return {
    days: dates.map((date) => ({
      date,
      violations: byDate.get(date)?.violations ?? null,
      adjustmentAbsTotal: byDate.get(date)?.adjustmentAbsTotal ?? null,
    })),
    lastRun,
    topDeltas: lastRun ? await readTopDeltas(db.kysely, lastRun.runId, TOP_DELTAS) : [],
    verify: {
      verdict: verified.verdict,
      runsChecked: verified.runsChecked,
      linesChecked: verified.linesChecked,
      problems: verified.problems.map(describeProblem),
      head: verified.head ? { position: verified.head.position, date: verified.head.date } : null,
    },
    migrations: await listBackfillRuns(db.kysely, MIGRATIONS_SHOWN),
    stuck: await listStuckEvents(db.kysely, STUCK_EVENTS_SHOWN),
    flags: await listFlags(db.kysely),
    openFindings: (await countFindings(db.kysely)).filter((count) => count.status === "open").reduce((sum, count) => sum + count.count, 0),
  };
}
