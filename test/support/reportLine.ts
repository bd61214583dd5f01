import type { Db } from "../../src/storage/openDatabase.js";

/** One user's stored line of a reconciliation run, as the database holds it. */
export function reportLine(db: Db, runId: number, uid: string) {
  return db.kysely
    .selectFrom("reconciliation_user_reports")
    .selectAll()
    .where("run_id", "=", runId)
    .where("uid", "=", uid)
    .executeTakeFirstOrThrow();
}
