import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";

/**
 * Takes the lease `name` for `holder` until `expiresAt`, if nobody else holds an
 * unexpired one. One statement (insert, or take over an expired row), so of several
 * instances racing for it exactly one wins on either engine.
 */
export async function acquireLease(
  db: Kysely<Schema>,
  input: { name: string; holder: string; now: Date; ttlMs: number },
): Promise<boolean> {
  const now = input.now.toISOString();
  const expiresAt = new Date(input.now.getTime() + input.ttlMs).toISOString();
  const row = await db
    .insertInto("job_leases")
    .values({ name: input.name, holder: input.holder, expires_at: expiresAt })
    .onConflict((conflict) =>
      conflict
        .column("name")
        .doUpdateSet({ holder: input.holder, expires_at: expiresAt })
        .where("job_leases.expires_at", "<", now),
    )
    .returning("holder")
    .executeTakeFirst();
  return row?.holder === input.holder;
}
