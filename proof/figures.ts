import type { Answer, AttemptRecord, Operation } from "./operations.js";

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The figures a run reports: throughput, ACK latency (overall and in the failover window), 5xx spans. */
export function runFigures(operations: Operation[], answers: Map<number, Answer>, attempts: AttemptRecord[], elapsedMs: number, failoverWindows: { fromMs: number; toMs: number }[]) {
  const counts: Record<string, number> = {};
  for (const op of operations) counts[op.kind] = (counts[op.kind] ?? 0) + 1;
  const acked = operations.filter((op) => op.kind === "delivery" && answers.get(op.id)?.status === 200).map((op) => answers.get(op.id)!);
  const ackLatencies = acked.map((answer) => answer.latencyMs).sort((a, b) => a - b);
  const inWindow = acked
    .filter((answer) => {
      const sentAtMs = answer.answeredAtMs - answer.latencyMs;
      return failoverWindows.some((window) => sentAtMs >= window.fromMs - 1_000 && sentAtMs <= window.toMs);
    })
    .map((answer) => answer.latencyMs)
    .sort((a, b) => a - b);
  // The longest stretch during which an instance answered nothing but 5xx.
  let longest5xxMs = 0;
  const streakStart = new Map<number, number>();
  for (const attempt of [...attempts].sort((a, b) => a.atMs - b.atMs)) {
    if (attempt.status === 0) continue;
    if (attempt.status >= 500) {
      if (!streakStart.has(attempt.instance)) streakStart.set(attempt.instance, attempt.atMs);
      longest5xxMs = Math.max(longest5xxMs, attempt.atMs - streakStart.get(attempt.instance)!);
    } else streakStart.delete(attempt.instance);
  }
  const answered = [...answers.values()].filter((answer) => answer.status > 0 && answer.status < 500).length;
  const round = (value: number) => Math.round(value);
  return {
    operations: operations.length,
    answered,
    byKind: counts,
    operationsPerSecond: Math.round((answered * 10_000) / elapsedMs) / 10,
    httpAttempts: attempts.length,
    retriedOperations: [...answers.values()].filter((answer) => answer.attempts > 1).length,
    answers5xx: attempts.filter((attempt) => attempt.status >= 500).length,
    unansweredAttempts: countBy(attempts.filter((attempt) => attempt.status === 0).map((attempt) => attempt.failure ?? "unknown")),
    longest5xxStreakMs: round(longest5xxMs),
    ackLatencyMs: { p50: round(percentile(ackLatencies, 50)), p99: round(percentile(ackLatencies, 99)), max: round(ackLatencies.at(-1) ?? 0) },
    ...(failoverWindows.length > 0
      ? { failoverAckLatencyMs: { acks: inWindow.length, p50: round(percentile(inWindow, 50)), p99: round(percentile(inWindow, 99)), max: round(inWindow.at(-1) ?? 0) } }
      : {}),
  };
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
