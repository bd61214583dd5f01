import type { ProofDb } from "../database.js";

/** What the database holds, read with the proof's own SQL. Sums are BigInt: no rounding anywhere. */
export interface LedgerFacts {
  events: Map<string, string>;
  wallets: Map<string, bigint>;
  entrySums: Map<string, bigint>;
  purchases: Map<string, { count: number; points: bigint }>;
  heals: Map<string, { count: number; points: bigint }>;
  /** Entries by idempotency key (spend:…, admin_adjustment:…, admin_reverse:…): count and Σ amount. */
  keyed: Map<string, { count: number; amount: bigint }>;
}

const big = (value: unknown) => BigInt(String(value ?? 0));

export async function readLedgerFacts(db: ProofDb): Promise<LedgerFacts> {
  const events = await db.all<{ provider: string; event_id: string; status: string }>("select provider, event_id, status from webhook_events");
  const wallets = await db.all<{ uid: string; points: unknown }>("select uid, points from wallets");
  const sums = await db.all<{ uid: string; total: unknown }>("select uid, sum(amount) as total from ledger_entries group by uid");
  const byKind = await db.all<{ uid: string; kind: string; n: unknown; total: unknown }>(
    "select uid, kind, count(*) as n, sum(amount) as total from ledger_entries where kind in ('purchase', 'reconcile_adjustment') group by uid, kind",
  );
  const keyed = await db.all<{ idempotency_key: string; n: unknown; total: unknown }>(
    "select idempotency_key, count(*) as n, sum(amount) as total from ledger_entries where idempotency_key like 'spend:%' or idempotency_key like 'admin_adjustment:%' or idempotency_key like 'admin_reverse:%' group by idempotency_key",
  );
  const perKind = (kind: string) =>
    new Map(byKind.filter((row) => row.kind === kind).map((row) => [row.uid, { count: Number(row.n), points: big(row.total) }]));
  return {
    events: new Map(events.map((row) => [`${row.provider}:${row.event_id}`, row.status])),
    wallets: new Map(wallets.map((row) => [row.uid, big(row.points)])),
    entrySums: new Map(sums.map((row) => [row.uid, big(row.total)])),
    purchases: perKind("purchase"),
    heals: perKind("reconcile_adjustment"),
    keyed: new Map(keyed.map((row) => [row.idempotency_key, { count: Number(row.n), amount: big(row.total) }])),
  };
}
