import type { Trx } from "../storage/withTransaction.js";

/**
 * How many points of `original` are not yet reversed: its amount net of every entry that
 * references it, as a magnitude. A new reversal (or reinstatement) may take up to this
 * many, never more, so the original is brought back to zero and never past it.
 */
export async function readUnreversedPoints(trx: Trx, original: { id: number; amount: number }): Promise<number> {
  const reversed = await trx
    .selectFrom("ledger_entries")
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("amount"), eb.lit(0)).as("total"))
    .where("reverses_entry_id", "=", original.id)
    .executeTakeFirstOrThrow();
  return Math.abs(original.amount + Number(reversed.total));
}
