import type { Trx } from "../storage/withTransaction.js";

export interface AuditRecord {
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
  now: Date;
}

/** Appends one audit row in the transaction of the change it describes. */
export async function recordAudit(trx: Trx, record: AuditRecord): Promise<void> {
  await trx
    .insertInto("audit_log")
    .values({
      at: record.now.toISOString(),
      actor: record.actor,
      action: record.action,
      subject: record.subject,
      details: JSON.stringify(record.details),
    })
    .execute();
}
