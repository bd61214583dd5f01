/** SQLite's refusal to sum integers past 64 bits (PostgreSQL sums bigints as numeric and never raises it). */
export function isIntegerOverflow(error: unknown): boolean {
  return error instanceof Error && /integer overflow/i.test(error.message);
}
