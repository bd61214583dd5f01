/**
 * Integers shown exactly, grouped by thousands with thin spaces (`1 234 567`, `−42`).
 * Points stay within ±10^15, far inside the exact range of a JS number.
 */
export function formatPoints(value: number): string {
  const digits = Math.abs(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, "\u2009");
  return value < 0 ? `\u2212${digits}` : digits;
}

/** A signed delta: `+12`, `−7`, `0`. */
export function formatDelta(value: number): string {
  return value > 0 ? `+${formatPoints(value)}` : formatPoints(value);
}

/** An ISO timestamp as `2026-03-10 12:00:05 UTC`; the page is read in UTC like the runs. */
export function formatTime(iso: string | null): string {
  if (!iso) return "—";
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
