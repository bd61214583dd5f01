import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { signPaynow } from "../src/providers/paynow/verifyPaynowSignature.js";
import type { Db } from "../src/storage/openDatabase.js";
import type { Answer, Shot } from "./openLoop.js";

export const LOAD_PRODUCT = "bench_product_10";
export const LOAD_POINTS_PER_UNIT = 10;

/**
 * Unique signed PayNow orders; every tenth delivery repeats an earlier order's event
 * (same bytes, signed again at send time), as a provider retry would.
 */
export class PaynowLoad {
  readonly sentOrders = new Map<string, { orderId: string; uid: string; points: number }>();
  readonly #bodies: { eventId: string; body: string }[] = [];
  #unique = 0;

  constructor(
    private readonly secrets: string[],
    private readonly runId = randomBytes(4).toString("hex"),
    users = 1_000,
    /** The user the n-th unique order credits; `bench_u_<n mod users>` unless given. */
    private readonly uidOf: (n: number) => string = (n) => `bench_u_${n % users}`,
  ) {}

  shot(index: number): Shot {
    const duplicate = index % 10 === 9 && this.#bodies.length > 0;
    const picked = duplicate ? this.#bodies[Math.floor(Math.random() * this.#bodies.length)]! : this.#fresh();
    const timestampMs = Date.now();
    const secret = this.secrets[index % this.secrets.length]!;
    return {
      path: "/api/webhooks/paynow",
      body: picked.body,
      headers: {
        "content-type": "application/json",
        "paynow-timestamp": String(timestampMs),
        "paynow-signature": signPaynow(secret, timestampMs, picked.body),
      },
      tag: picked.eventId,
    };
  }

  #fresh(): { eventId: string; body: string } {
    const n = this.#unique++;
    const eventId = `9${this.runId.replace(/[a-f]/g, (c) => String(c.charCodeAt(0) % 10))}${String(n).padStart(12, "0")}`;
    const orderId = `8${eventId.slice(1)}`;
    const uid = this.uidOf(n);
    const quantity = 1 + (n % 3);
    const body = JSON.stringify({
      event_type: "ON_ORDER_COMPLETED",
      event_id: eventId,
      body: {
        id: orderId,
        store_id: "321641745957789696",
        customer: { id: "498201112233445566", name: "Load" },
        checkout: { id: `7${eventId.slice(1)}`, metadata: { uid }, lines: [] },
        currency: "USD",
        total_amount: 500 * quantity,
        status: "completed",
        completed_at: new Date().toISOString(),
        lines: [{ id: `6${eventId.slice(1)}`, product_id: LOAD_PRODUCT, price: 500, quantity, total_amount: 500 * quantity }],
      },
    });
    this.sentOrders.set(eventId, { orderId, uid, points: LOAD_POINTS_PER_UNIT * quantity });
    const entry = { eventId, body };
    this.#bodies.push(entry);
    if (this.#bodies.length > 5_000) this.#bodies.shift();
    return entry;
  }
}

export interface IngestAudit {
  ackedEvents: number;
  ackedNotStored: number;
  ackedNotApplied: number;
  /** Orders with more than one purchase entry: impossible by the unique key, counted anyway. */
  doubleCredits: number;
  /** Points credited that no stored order explains, or stored orders not credited. */
  pointsMismatch: number;
  walletsNotEqualEntries: number;
  /** Stored rows never applied: impossible when store and apply commit together. */
  leftReceived: number;
}

/** After a run: every ACKed event is stored and applied exactly once, every wallet equals its entries. */
export async function auditIngest(db: Db, load: PaynowLoad, answers: Answer[]): Promise<IngestAudit> {
  const acked = new Set(answers.filter((answer) => answer.status === 200).map((answer) => answer.tag));
  const events = await db.kysely.selectFrom("webhook_events").select(["event_id", "status"]).where("provider", "=", "paynow").execute();
  const status = new Map(events.map((row) => [row.event_id, row.status]));
  const purchases = await sql<{ key: string; n: number; points: number }>`
    select idempotency_key as key, count(*) as n, sum(amount) as points from ledger_entries
    where kind = 'purchase' group by idempotency_key`.execute(db.kysely);
  const credited = new Map(purchases.rows.map((row) => [row.key, { n: Number(row.n), points: Number(row.points) }]));
  let ackedNotStored = 0;
  let ackedNotApplied = 0;
  for (const eventId of acked) {
    if (!status.has(eventId)) ackedNotStored++;
    const order = load.sentOrders.get(eventId);
    if (status.get(eventId) !== "processed" || !order || !credited.has(`paynow:order:${order.orderId}`)) ackedNotApplied++;
  }
  let pointsMismatch = 0;
  for (const [eventId, order] of load.sentOrders) {
    const entry = credited.get(`paynow:order:${order.orderId}`);
    if (status.has(eventId) ? entry?.points !== order.points : entry !== undefined) pointsMismatch++;
  }
  const walletDrift = await sql<{ n: number }>`
    select count(*) as n from wallets w
    where w.points <> coalesce((select sum(e.amount) from ledger_entries e where e.uid = w.uid), 0)`.execute(db.kysely);
  return {
    leftReceived: events.filter((row) => row.status === "received").length,
    ackedEvents: acked.size,
    ackedNotStored,
    ackedNotApplied,
    doubleCredits: [...credited.values()].filter((entry) => entry.n > 1).length,
    pointsMismatch,
    walletsNotEqualEntries: Number(walletDrift.rows[0]?.n ?? 0),
  };
}
