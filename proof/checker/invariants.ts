import { pointsPerUnit } from "../catalogue.js";
import { expectedWallets, type ModelResult } from "../model/expectedWallets.js";
import { readDelivery } from "../model/readDelivery.js";
import type { Answer, AttemptRecord, Operation } from "../operations.js";
import type { LedgerFacts } from "./ledgerFacts.js";

export interface RunRecord {
  operations: Operation[];
  answers: Map<number, Answer>;
  attempts: AttemptRecord[];
  /** Where the database itself was away (a failover): 5xx is allowed there and only there. */
  failoverWindows: { fromMs: number; toMs: number }[];
  verify: { ok: boolean; detail: string };
  /**
   * Backfills that ran outside a failover window: each must end. Per-event errors are
   * allowed (a refund whose purchase is still in flight cannot be reversed yet); the
   * wallet invariants say whether anything was applied twice.
   */
  backfills: { type: string; summary: string }[];
  /** Instances that ended without being killed, with the last lines they logged. */
  unexpectedExits: { instance: number; lastLog: string }[];
}

export interface Invariant {
  name: string;
  /** How many things it checked. */
  checked: number;
  broken: number;
  /** The first few broken cases, for the report. */
  examples: string[];
}

class Tally {
  checked = 0;
  broken = 0;
  examples: string[] = [];
  constructor(readonly name: string) {}
  check(ok: boolean, example: () => string): void {
    this.checked++;
    if (ok) return;
    this.broken++;
    if (this.examples.length < 5) this.examples.push(example());
  }
  done(): Invariant {
    return { name: this.name, checked: this.checked, broken: this.broken, examples: this.examples };
  }
}

/** The model's input: only what was ACKed (2xx) and the edits that were made. */
export function modelOf(record: RunRecord): ModelResult {
  const ok = (op: Operation, status: number) => record.answers.get(op.id)?.status === status;
  const byId = new Map(record.operations.map((op) => [op.id, op]));
  const model = { catalogue: pointsPerUnit, deliveries: [] as { provider: "paynow" | "stripe"; body: string }[], spends: [] as { uid: string; amount: number }[], adjustments: [] as { uid: string; amount: number }[], reversedAdjustments: [] as { uid: string; amount: number }[], drifts: [] as { uid: string; points: number }[] };
  for (const op of record.operations) {
    if (op.kind === "delivery" && ok(op, 200)) model.deliveries.push({ provider: op.provider, body: op.body });
    if (op.kind === "spend" && op.firstOf === undefined && ok(op, 201)) model.spends.push({ uid: op.uid, amount: op.amount });
    if (op.kind === "adjust" && ok(op, 201)) model.adjustments.push({ uid: op.uid, amount: op.amount });
    if (op.kind === "reverse_adjustment" && ok(op, 201)) {
      const adjust = byId.get(op.adjustOp) as Extract<Operation, { kind: "adjust" }>;
      model.reversedAdjustments.push({ uid: adjust.uid, amount: adjust.amount });
    }
    if (op.kind === "drift" && record.answers.get(op.id)?.applied) model.drifts.push({ uid: op.uid, points: op.points });
  }
  return expectedWallets(model);
}

export function checkInvariants(record: RunRecord, facts: LedgerFacts, model: ModelResult): Invariant[] {
  const answered = new Tally("every operation got a definitive answer");
  const acked = new Tally("every well-formed signed delivery ACKed (2xx)");
  const stored = new Tally("every ACKed delivery stored");
  const settled = new Tally("every ACKed delivery applied or ignored, none parked or failed");
  const purchases = new Tally("every ACKed purchase credited exactly once");
  const spends = new Tally("every 2xx spend applied once, every refused spend not at all");
  const replays = new Tally("a repeated Idempotency-Key replays the first answer; a changed body is 409");
  const admin = new Tally("every 2xx adjustment and reversal applied once");
  const walletsEntries = new Tally("every wallet equals the sum of its entries");
  const walletsModel = new Tally("every wallet equals the model plus the planted drift");
  const heals = new Tally("every heal explained by a planted drift (no false heal, none missed)");
  const verify = new Tally("reports verify clean");
  const no5xx = new Tally("no 5xx outside a database failover");
  const noCrash = new Tally("no instance ended on its own (only the proof's SIGKILLs)");
  const backfills = new Tally("every backfill run ended (completed, or partial with its errors recorded), none failed or hung");
  const byId = new Map(record.operations.map((op) => [op.id, op]));
  for (const op of record.operations) {
    const answer = record.answers.get(op.id);
    answered.check(answer !== undefined && answer.status !== 0 && answer.status < 500, () => `${op.kind} #${op.id}: ${answer ? `last status ${answer.status} after ${answer.attempts} attempts` : "never sent"}`);
    if (op.kind === "delivery") {
      acked.check(answer?.status === 200, () => `${op.provider} ${op.eventId}: ${answer?.status} ${JSON.stringify(answer?.body)}`);
      if (answer?.status !== 200) continue;
      const status = facts.events.get(`${op.provider}:${op.eventId}`);
      stored.check(status !== undefined, () => `${op.provider} ${op.eventId} ACKed, not in webhook_events`);
      const fact = readDelivery(op.provider, op.body).fact;
      const allowed = fact === "nothing" ? ["processed", "ignored"] : ["processed"];
      settled.check(status === undefined || allowed.includes(status), () => `${op.provider} ${op.eventId} (${fact}) is ${status}`);
    }
    if (op.kind === "spend") {
      if (op.firstOf === undefined) {
        const entry = facts.keyed.get(`spend:${op.key}`);
        if (answer?.status === 201) spends.check(entry?.count === 1 && entry.amount === -BigInt(op.amount), () => `spend ${op.key} (201, ${op.amount}) has ${JSON.stringify(entry, (_, v) => (typeof v === "bigint" ? String(v) : v))}`);
        else if (answer) spends.check(entry === undefined, () => `spend ${op.key} answered ${answer.status} but has an entry`);
      } else {
        const first = byId.get(op.firstOf) as Extract<Operation, { kind: "spend" }>;
        const firstAnswer = record.answers.get(op.firstOf);
        const expected = first.amount === op.amount ? firstAnswer?.status : 409;
        const sameEntry = expected !== 201 || entryId(answer?.body) === entryId(firstAnswer?.body);
        replays.check(answer?.status === expected && sameEntry, () => `spend ${op.key} (${first.amount === op.amount ? "replay" : "changed body"}) answered ${answer?.status}, first ${firstAnswer?.status}`);
      }
    }
    if (op.kind === "adjust" && answer) {
      const entry = facts.keyed.get(`admin_adjustment:${op.key}`);
      admin.check(answer.status === 201 ? entry?.count === 1 && entry.amount === BigInt(op.amount) : entry === undefined, () => `adjustment ${op.key} answered ${answer.status}, entries ${entry?.count ?? 0}`);
    }
    if (op.kind === "reverse_adjustment" && answer && answer.status !== -1) {
      const adjust = byId.get(op.adjustOp) as Extract<Operation, { kind: "adjust" }>;
      const entry = facts.keyed.get(`admin_reverse:${op.key}`);
      admin.check(answer.status === 201 ? entry?.count === 1 && entry.amount === -BigInt(adjust.amount) : entry === undefined, () => `reversal ${op.key} answered ${answer.status}, entries ${entry?.count ?? 0}`);
    }
  }
  const users = new Set([...facts.wallets.keys(), ...model.wallets.keys()]);
  for (const uid of users) {
    const wallet = facts.wallets.get(uid);
    walletsEntries.check(wallet === undefined || wallet === (facts.entrySums.get(uid) ?? 0n), () => `${uid}: wallet ${wallet}, entries ${facts.entrySums.get(uid) ?? 0n}`);
    walletsModel.check((wallet ?? 0n) === (model.wallets.get(uid) ?? 0n), () => `${uid}: wallet ${wallet}, model ${model.wallets.get(uid) ?? 0n} (drift ${model.drift.get(uid)?.points ?? 0n})`);
    const credited = facts.purchases.get(uid) ?? { count: 0, points: 0n };
    const sold = model.purchases.get(uid) ?? { count: 0, points: 0n };
    purchases.check(credited.count === sold.count && credited.points === sold.points, () => `${uid}: ${credited.count} purchase entries for ${credited.points}, model ${sold.count} for ${sold.points}`);
    const healed = facts.heals.get(uid) ?? { count: 0, points: 0n };
    const drift = model.drift.get(uid) ?? { points: 0n, edits: 0 };
    heals.check(healed.points === drift.points && healed.count <= drift.edits, () => `${uid}: ${healed.count} heals for ${healed.points}, planted ${drift.edits} edits for ${drift.points}`);
  }
  verify.check(record.verify.ok, () => record.verify.detail);
  noCrash.check(record.unexpectedExits.length === 0, () => record.unexpectedExits.map((exit) => `instance ${exit.instance}: ${exit.lastLog}`).join("; ").slice(0, 800));
  for (const run of record.backfills) backfills.check(/^(completed|partial): \d+ scanned, \d+ applied, \d+ errors$/.test(run.summary), () => `${run.type}: ${run.summary}`);
  for (const attempt of record.attempts) {
    if (!attempt.well || attempt.status === 0) continue;
    const inFailover = record.failoverWindows.some((window) => attempt.atMs >= window.fromMs && attempt.atMs <= window.toMs);
    no5xx.check(attempt.status < 500 || inFailover, () => `status ${attempt.status} from instance ${attempt.instance} at ${Math.round(attempt.atMs)} ms`);
  }
  return [answered, acked, stored, settled, purchases, spends, replays, admin, walletsEntries, walletsModel, heals, backfills, verify, no5xx, noCrash].map((tally) => tally.done());
}

function entryId(body: unknown): unknown {
  return (body as { entry?: { id?: unknown } } | null)?.entry?.id;
}
