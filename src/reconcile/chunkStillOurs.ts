import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";

/** Whether `holder` still holds the chunk, inside the write transaction `trx` that is about to write for it. */
export async function chunkStillOurs(trx: Kysely<Schema>, chunk: { runId: number; chunkNo: number; holder: string }): Promise<boolean> {
  const ours = await trx
    .selectFrom("reconciliation_chunks")
    .select("chunk_no")
    .where("run_id", "=", chunk.runId)
    .where("chunk_no", "=", chunk.chunkNo)
    .where("status", "=", "claimed")
    .where("claimed_by", "=", chunk.holder)
    .executeTakeFirst();
  return ours !== undefined;
}
