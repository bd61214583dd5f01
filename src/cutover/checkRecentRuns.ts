import type { RunSummary } from "../reconcile/readReports.js";
import { failed, passed, type CutoverCheck } from "./CutoverCheck.js";

const DAY_MS = 86_400_000;

export interface RecentRunsRule {
  /** Today (UTC), `YYYY-MM-DD`. */
  today: string;
  /** How many consecutive days must have a clean run. */
  days: number;
  /** Violations a run may have found and still count as clean (0: none). */
  maxViolations: number;
}

export function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00.000Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The dates the rule looks at: the `days` days ending today when today's run exists,
 * otherwise ending yesterday (today's nightly run may simply not have happened yet).
 */
export function runWindow(rule: RecentRunsRule, hasRunToday: boolean): { from: string; to: string } {
  const to = hasRunToday ? rule.today : shiftDate(rule.today, -1);
  return { from: shiftDate(to, -(rule.days - 1)), to };
}

/**
 * Pure: every day of the window has a run (its latest), completed, with at most
 * `maxViolations` violations and no refused heal. `runs` are the latest run of each date
 * from the day before the window's first to today.
 */
export function checkRecentRuns(runs: readonly RunSummary[], rule: RecentRunsRule): CutoverCheck {
  const name = "reconciliation_runs";
  const byDate = new Map(runs.map((run) => [run.date, run]));
  const { from, to } = runWindow(rule, byDate.has(rule.today));
  const problems: string[] = [];
  for (let date = from; date <= to; date = shiftDate(date, 1)) {
    const run = byDate.get(date);
    if (!run) problems.push(`${date}: no run`);
    else if (run.status !== "completed") problems.push(`${date}: run ${run.runId} is ${run.status}`);
    else if (run.violations > rule.maxViolations) problems.push(`${date}: run ${run.runId} found ${run.violations} violations (at most ${rule.maxViolations})`);
    else if (run.refused > 0) problems.push(`${date}: run ${run.runId} could not heal ${run.refused} users`);
  }
  const window = `the ${rule.days} days ${from}..${to}`;
  if (problems.length === 0) return passed(name, `${window} each have a completed run with at most ${rule.maxViolations} violations`);
  return failed(name, "reconciliation_not_clean", `${window}: ${problems.join("; ")}`);
}
