/** A run date: `YYYY-MM-DD`, a real calendar day, not after today (UTC). */
export type RunDateCheck =
  | { ok: true; date: string }
  | { ok: false; reason: "malformed" | "impossible" | "future"; message: string };

export function todayUtc(now: Date): string {
  return now.toISOString().slice(0, 10);
}

export function checkRunDate(value: string, now: Date): RunDateCheck {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return { ok: false, reason: "malformed", message: "date must be YYYY-MM-DD" };
  }
  const parsed = new Date(`${value}T00:00:00.000Z`);
  // Date rolls 2026-02-30 over to March; a real day survives the round trip unchanged.
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== value) {
    return { ok: false, reason: "impossible", message: `${value} is not a calendar date` };
  }
  if (value > todayUtc(now)) {
    return { ok: false, reason: "future", message: `${value} is in the future (today is ${todayUtc(now)} UTC)` };
  }
  return { ok: true, date: value };
}
