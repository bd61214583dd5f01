import { sql, type CompiledQuery, type Insertable, type QueryResult } from "kysely";
import type { WebhookEventsTable, WebhookStatus } from "../storage/schema.js";
import { lockWallets } from "../ledger/lockWallets.js";
import { engineOf, type WebhookPurchaseRow } from "../storage/EngineAdapter.js";
import { ConcurrentWriteError, type Trx } from "../storage/withTransaction.js";
import { statementChunks, valuesTable } from "../storage/setBased.js";
import { applyEvents, outcomeColumns } from "./applyStoredEvent.js";
import { creditReads, type Credit } from "./applyCredit.js";
import type { ApplyResult } from "./ApplyResult.js";
import type { PendingDelivery, StoredDelivery } from "./WebhookCommitQueue.js";

const eventKey = (row: { provider: string; event_id: string }) => `${row.provider}\u0000${row.event_id}`;

/**
 * Stores a batch of deliveries and applies the new ones together (`applyEvents`). A
 * delivery whose event id is already stored, before or earlier in the same batch, is a
 * duplicate and changes nothing.
 *
 * The new deliveries are applied first and inserted last, each row already holding its
 * outcome: one insert per batch instead of an insert and then an update of every row
 * (an update of an indexed status writes the row and all its index entries again). The
 * transaction is the unit: a row is never visible without its outcome. Each event's name
 * is locked first (in sorted order, `lockNames`), so two batches holding the same event
 * serialise; a writer that stores an event without that lock makes our insert skip it,
 * and the whole batch then runs again (`ConcurrentWriteError`) and finds it stored.
 *
 * On PostgreSQL the statements go in few round trips (`sendInOrder`): the locks and every
 * read together; the wallets; the entries; the purchase records with the events (when no
 * parked event waits for a purchase the batch credits and it holds no refund or chargeback,
 * nothing needs the purchases recorded earlier); the commit.
 */
export async function storeDeliveries(trx: Trx, deliveries: PendingDelivery[]): Promise<StoredDelivery[]> {
  const firsts = new Map<string, PendingDelivery>();
  for (const delivery of deliveries) if (!firsts.has(eventKey(delivery.row))) firsts.set(eventKey(delivery.row), delivery);
  // Taken before the read below, so a batch storing the same event waits for ours to commit
  // and then finds it stored; with them, in the same sorted statement, the purchases the batch
  // credits and the purchases it reverses.
  const firstReads = [...firsts.values()];
  const reversed = firstReads.flatMap(({ read }) => (read.event.kind === "refund" || read.event.kind === "chargeback" || read.event.kind === "chargeback_won" ? [read.event.purchaseRef] : []));
  const engine = engineOf(trx);
  const lock = engine.lockNamesStatement([
    ...firstReads.map(({ row }) => `webhook_event:${row.provider}:${row.event_id}`),
    ...firstReads.flatMap(({ read }) => (read.event.kind === "credit" ? read.event.purchaseRefs : [])),
    ...reversed,
  ]);
  // The batch's wallets and keys are looked up by `in (…)`: by index even on young tables.
  const byIndex = engine.lookupsByIndexStatement();
  let locks: CompiledQuery[] = [...(byIndex ? [byIndex.compile(trx)] : []), ...(lock ? [lock.compile(trx)] : [])];
  if (reversed.length > 0) {
    await engine.sendInOrder(trx, locks);
    locks = [];
    await lockBatchWallets(trx, firstReads, reversed);
  }
  // Every read the batch's credits need goes with the stored-events read, after the locks:
  // for all its first deliveries, even those found stored (a superset does no harm).
  const storedReads = storedStatuses(trx, firstReads.map((delivery) => delivery.row));
  const credits = firstReads.flatMap(({ row, read }) => (read.event.kind === "credit" ? [{ provider: row.provider as Credit["provider"], event: read.event }] : []));
  const creditsRead = credits.length > 0 ? creditReads(trx, credits) : null;
  const parked = parkedFor(trx, credits.flatMap(({ event }) => event.purchaseRefs));
  const results = await engine.sendInOrder(trx, [...locks, ...storedReads.statements, ...(creditsRead?.statements ?? []), ...parked]);
  const afterLocks = results.slice(locks.length);
  const stored = storedReads.read(afterLocks.slice(0, storedReads.statements.length));
  const reads = creditsRead?.read(afterLocks.slice(storedReads.statements.length, afterLocks.length - parked.length));
  const noneParked = afterLocks.slice(afterLocks.length - parked.length).every((result) => result.rows.length === 0);
  const purchasesLater: WebhookPurchaseRow[] = [];
  const fresh = firstReads.filter((delivery) => !stored.has(eventKey(delivery.row)));
  const applied = await applyEvents(
    trx,
    fresh.map((delivery) => ({
      provider: delivery.row.provider,
      eventId: delivery.row.event_id,
      rawBody: delivery.row.raw_body,
      options: { now: delivery.now, reversalPolicy: delivery.reversalPolicy },
      read: delivery.read,
    })),
    // Nothing to record yet: each outcome is written with its row, below.
    async () => undefined,
    { refsLocked: true, reads, noneParked, purchasesLater },
  );
  await insertApplied(trx, fresh, applied, purchasesLater);
  const statuses = new Map(stored);
  fresh.forEach((delivery, index) => statuses.set(eventKey(delivery.row), applied[index]!.status));
  return deliveries.map((delivery) => ({
    duplicate: firsts.get(eventKey(delivery.row)) !== delivery || stored.has(eventKey(delivery.row)),
    status: statuses.get(eventKey(delivery.row))!,
  }));
}

/**
 * Inserts the applied deliveries with their outcomes, in arrival order: ids follow arrival,
 * so parked events are released in the order they arrived, as one delivery at a time would.
 */
async function insertApplied(trx: Trx, fresh: PendingDelivery[], applied: ApplyResult[], purchases: WebhookPurchaseRow[]): Promise<void> {
  const rows = fresh.map(({ row, now }, index) => ({
    provider: row.provider,
    event_id: row.event_id,
    event_type: row.event_type,
    headers: row.headers,
    livemode: row.livemode ?? null,
    received_at: row.received_at,
    raw_body: row.raw_body,
    ...outcomeColumns(applied[index]!, now),
    attempts: 1,
  }));
  const inserted = await engineOf(trx).insertWebhookPurchasesAndEvents(trx, purchases, rows);
  if (inserted !== rows.length) throw new ConcurrentWriteError("a webhook event of this batch was stored by another transaction");
}

/**
 * The statuses of events stored before this batch, by provider and event id: one probe of
 * the unique key per delivery, a subquery for each row of a VALUES list, so the plan does
 * not hang on the young table's statistics (`event_id in (…)` read every row of the
 * provider, and a join could hash the whole table, until autovacuum analysed it).
 */
function storedStatuses(trx: Trx, rows: Insertable<WebhookEventsTable>[]): { statements: CompiledQuery[]; read(results: readonly QueryResult<any>[]): Map<string, WebhookStatus> } {
  const statements = statementChunks(rows, 2).map((chunk) => {
    const keys = valuesTable(trx, ["text", "text"], chunk.map((row) => [row.provider, row.event_id]));
    return sql`select v.column1 as provider, v.column2 as event_id,
        (select w.status from webhook_events w where w.provider = v.column1 and w.event_id = v.column2) as status
      from ${keys}`.compile(trx);
  });
  return {
    statements,
    read: (results) => {
      const statuses = new Map<string, WebhookStatus>();
      for (const { rows: found } of results) {
        for (const row of found as { provider: string; event_id: string; status: WebhookStatus | null }[]) if (row.status !== null) statuses.set(eventKey(row), row.status);
      }
      return statuses;
    },
  };
}

/**
 * Whether any parked event waits for one of `refs`, the purchases the batch credits: read
 * under their locks, so none can park meanwhile. When none does, crediting them releases
 * nothing and the release's own look is skipped.
 */
function parkedFor(trx: Trx, refs: readonly string[]): CompiledQuery[] {
  return statementChunks([...new Set(refs)], 1).map((chunk) =>
    trx.selectFrom("webhook_events").select("id").where("status", "=", "parked").where("waiting_for", "in", chunk).limit(1).compile(),
  );
}

/**
 * Where rows are locked (PostgreSQL), a batch that reverses purchases locks, right after its
 * names and in one sorted pass, every wallet it can move: its buyers' and the reversed
 * purchases' owners. Otherwise its credits lock their wallets together and each reversal then
 * locks one more, in the batch's order, and two batches doing so in opposite orders deadlock
 * (PostgreSQL detects it after a second and one of them runs again; five times in a row and
 * the deliveries are refused). The owners cannot change meanwhile: a purchase is recorded
 * only under its name's lock, which this batch already holds. Later locks of the same wallets
 * in this transaction are then taken again, never waited for.
 */
async function lockBatchWallets(trx: Trx, reads: readonly PendingDelivery[], reversed: readonly string[]): Promise<void> {
  if (!engineOf(trx).rowLocks) return;
  const uids = new Set<string>();
  for (const { read } of reads) if (read.event.kind === "credit" && read.event.uid !== null) uids.add(read.event.uid);
  for (const chunk of statementChunks([...new Set(reversed)], 1)) {
    for (const row of await trx.selectFrom("webhook_purchases").select("uid").where("purchase_ref", "in", chunk).execute()) uids.add(row.uid);
  }
  for (const chunk of statementChunks([...uids].sort(), 1)) await lockWallets(trx, chunk).select("uid").execute();
}
