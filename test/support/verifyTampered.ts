import type { Db } from "../../src/storage/openDatabase.js";
import type { Trx } from "../../src/storage/withTransaction.js";
import { verifyReports, type VerifyOptions, type VerifyResult } from "../../src/reconcile/verifyReports.js";

class Rollback extends Error {}

/** Tampers inside a transaction, verifies what the tamperer left, then rolls the tampering back. */
export async function verifyTampered(db: Db, options: VerifyOptions, tamper: (trx: Trx) => Promise<void>): Promise<VerifyResult> {
  let result: VerifyResult | undefined;
  await db.kysely
    .transaction()
    .execute(async (trx) => {
      await tamper(trx);
      result = await verifyReports(trx, options);
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
  return result!;
}
