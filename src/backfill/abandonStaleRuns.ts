import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";
import type { BackfillType } from "./BackfillRequest.js";
import { holderIsAlive } from "./runLease.js";

/**
 * Ends as `failed` (reason `abandoned`) every `running` record of `type` whose holder
 * is dead: a process killed mid-run, or a run whose execution ended without ending its
 * record. The record keeps its counts and cursor, so a real run can be resumed. Each
 * is ended only if nobody changed it since it was read (same holder, same heartbeat),
 * so a holder that just proved alive, or a concurrent taker, wins. Returns how many.
 */
export async function abandonStaleRuns(db: Kysely<Schema>, type: BackfillType, now: Date): Promise<number> {
  const running = await db
    .selectFrom("data_migrations")
    .select(["id", "holder", "heartbeat_at", "updated_at"])
    .where("type", "=", type)
    .where("status", "=", "running")
    .execute();
  let abandoned = 0;
  for (const row of running) {
    const lastSignOfLife = row.heartbeat_at ?? row.updated_at;
    if (holderIsAlive(row.holder, lastSignOfLife, now)) continue;
    const at = now.toISOString();
    const ended = await db
      .updateTable("data_migrations")
      .set({
        status: "failed",
        holder: null,
        finished_at: at,
        updated_at: at,
        failure_reason: "abandoned",
        failure_detail: `its holder ${row.holder ?? "(none)"} stopped; last sign of life at ${lastSignOfLife}`,
      })
      .where("id", "=", row.id)
      .where("status", "=", "running")
      .where("holder", "is not distinct from", row.holder)
      .where("heartbeat_at", "is not distinct from", row.heartbeat_at)
      .executeTakeFirst();
    abandoned += Number(ended.numUpdatedRows);
  }
  return abandoned;
}
