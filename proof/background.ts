import type { Instances } from "./instances.js";
import type { Random } from "./random.js";
import { runReckon } from "./reckonCli.js";

export interface BackgroundLog {
  kills: { atMs: number; instance: number; downMs: number }[];
  reconciliations: { date: string; processes: number; outcomes: string[] }[];
  backfills: { type: string; code: number | null; summary: string; duringFailover: boolean }[];
  problems: string[];
}

export interface Background {
  instances: Instances;
  env: () => Record<string, string>;
  stopped: () => boolean;
  nowMs: () => number;
  log: BackgroundLog;
  say: (line: string) => void;
  /** Whether a database failover overlapped this span: work failing inside it is expected. */
  failoverDuring: (fromMs: number, toMs: number) => boolean;
}

/** Waits `ms`, waking early once the run stops. */
export async function pause(ms: number, stopped: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!stopped() && Date.now() < until) await new Promise((resolveWait) => setTimeout(resolveWait, Math.min(200, until - Date.now())));
}

/** SIGKILLs an instance at seeded moments and restarts it on its port after a seeded pause. */
export async function killInstances(bg: Background, random: Random, meanIntervalMs: number): Promise<void> {
  await pause(random.int(3_000, 8_000), bg.stopped);
  while (!bg.stopped()) {
    const instance = random.int(0, bg.instances.count - 1);
    const downMs = random.int(200, 2_000);
    bg.log.kills.push({ atMs: bg.nowMs(), instance, downMs });
    await bg.instances.kill(instance);
    bg.say(`SIGKILL instance ${instance}; restarting in ${downMs} ms`);
    await new Promise((resolveWait) => setTimeout(resolveWait, downMs));
    await bg.instances.restart(instance).catch((error: Error) => bg.log.problems.push(`restart of instance ${instance}: ${error.message}`));
    await pause(random.int(Math.round(meanIntervalMs / 2), Math.round((meanIntervalMs * 3) / 2)), bg.stopped);
  }
}

/** The date of reconciliation round `round`: each round its own date, so each may heal every user once. */
export function roundDate(round: number): string {
  return new Date(Date.UTC(2020, 0, 1 + round)).toISOString().slice(0, 10);
}

/** One reconciliation run shared by `processes` `reckon reconcile --join` processes started at once. */
export async function reconcileRound(bg: Background, round: number, processes: number): Promise<void> {
  const date = roundDate(round);
  const startMs = bg.nowMs();
  const results = await Promise.all(Array.from({ length: processes }, () => runReckon(["reconcile", "--date", date, "--join"], bg.env(), 300_000)));
  const outcomes = results.map((result) => {
    try {
      return (JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "") as { outcome: string }).outcome;
    } catch {
      return `exit ${result.code}: ${result.stderr.trim().split("\n").slice(-2).join(" ")}`;
    }
  });
  bg.log.reconciliations.push({ date, processes, outcomes });
  if (!outcomes.some((outcome) => outcome === "completed") && !bg.failoverDuring(startMs, bg.nowMs())) bg.log.problems.push(`reconciliation ${date} did not complete: ${outcomes.join("; ")}`);
  bg.say(`reconciliation ${date} by ${processes} processes: ${outcomes.join(", ")}`);
}

export async function reconcileRepeatedly(bg: Background, random: Random, processes: number, rounds: { next: number }): Promise<void> {
  await pause(random.int(5_000, 10_000), bg.stopped);
  while (!bg.stopped()) {
    await reconcileRound(bg, rounds.next++, processes);
    await pause(random.int(8_000, 20_000), bg.stopped);
  }
}

/** Replay and reversal backfills over today's events, at seeded moments; they must change nothing. */
export async function backfillRepeatedly(bg: Background, random: Random): Promise<void> {
  await pause(random.int(10_000, 20_000), bg.stopped);
  while (!bg.stopped()) {
    const type = random.pick(["replay", "reversals"]);
    const today = new Date().toISOString().slice(0, 10);
    const startMs = bg.nowMs();
    const result = await runReckon(["backfill", type, "--from", today, "--to", today], bg.env(), 300_000);
    let summary: string;
    try {
      const record = JSON.parse(result.stdout) as { status: string; scanned: number; processed: number; errors: number };
      summary = `${record.status}: ${record.scanned} scanned, ${record.processed} applied, ${record.errors} errors`;
    } catch {
      summary = result.stderr.trim().split("\n").at(-1) ?? "";
    }
    bg.log.backfills.push({ type, code: result.code, summary: summary.slice(0, 300), duringFailover: bg.failoverDuring(startMs, bg.nowMs()) });
    bg.say(`backfill ${type}: exit ${result.code} ${summary.slice(0, 160)}`);
    await pause(random.int(15_000, 30_000), bg.stopped);
  }
}
