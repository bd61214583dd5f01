import type { Insertable } from "kysely";
import type { WebhookEventsTable, WebhookStatus } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";
import { statementChunks } from "../storage/setBased.js";
import { applyStoredEvents, type StoredEvent } from "./applyStoredEvent.js";
import type { PendingDelivery, StoredDelivery } from "./WebhookCommitQueue.js";

const eventKey = (row: { provider: string; event_id: string }) => `${row.provider}\u0000${row.event_id}`;

/**
 * Stores a batch of deliveries with one insert per chunk and applies the new ones
 * together (`applyStoredEvents`). A delivery whose event id is already stored, before
 * or earlier in the same batch, is a duplicate and changes nothing.
 */
export async function storeDeliveries(trx: Trx, deliveries: PendingDelivery[]): Promise<StoredDelivery[]> {
  const firsts = new Map<string, PendingDelivery>();
  for (const delivery of deliveries) if (!firsts.has(eventKey(delivery.row))) firsts.set(eventKey(delivery.row), delivery);
  const inserted = new Map<string, StoredEvent>();
  // Inserted in key order: two processes storing the same events never wait on each other in a cycle.
  const byKey = [...firsts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, delivery]) => delivery);
  for (const chunk of statementChunks(byKey, 10)) {
    const rows = await trx
      .insertInto("webhook_events")
      .values(chunk.map((delivery) => delivery.row))
      .onConflict((conflict) => conflict.columns(["provider", "event_id"]).doNothing())
      .returningAll()
      .execute();
    for (const row of rows) inserted.set(eventKey(row), row);
  }
  const fresh = [...firsts.values()].filter((delivery) => inserted.has(eventKey(delivery.row)));
  const applied = await applyStoredEvents(
    trx,
    fresh.map((delivery) => ({
      row: inserted.get(eventKey(delivery.row))!,
      options: { now: delivery.now, reversalPolicy: delivery.reversalPolicy },
      read: delivery.read,
    })),
  );
  const statuses = new Map<string, WebhookStatus>();
  fresh.forEach((delivery, index) => statuses.set(eventKey(delivery.row), applied[index]!.status));
  const stored = [...firsts.keys()].filter((key) => !statuses.has(key));
  for (const [key, status] of await storedStatuses(trx, stored.map((key) => firsts.get(key)!.row))) statuses.set(key, status);
  return deliveries.map((delivery) => ({
    duplicate: firsts.get(eventKey(delivery.row)) !== delivery || !inserted.has(eventKey(delivery.row)),
    status: statuses.get(eventKey(delivery.row))!,
  }));
}

/** The statuses of events stored before this batch, by provider and event id. */
async function storedStatuses(trx: Trx, rows: Insertable<WebhookEventsTable>[]): Promise<Map<string, WebhookStatus>> {
  const statuses = new Map<string, WebhookStatus>();
  for (const provider of new Set(rows.map((row) => row.provider))) {
    const ids = rows.filter((row) => row.provider === provider).map((row) => row.event_id);
    for (const chunk of statementChunks(ids, 1)) {
      const found = await trx
        .selectFrom("webhook_events")
        .select(["provider", "event_id", "status"])
        .where("provider", "=", provider)
        .where("event_id", "in", chunk)
        .execute();
      for (const row of found) statuses.set(eventKey(row), row.status);
    }
  }
  return statuses;
}
