import type { ProofDb } from "./database.js";
import { plantDrift } from "./drift.js";
import { send, type HttpReply } from "./http.js";
import type { Instances } from "./instances.js";
import type { Answer, AttemptRecord, DeliveryOp, Operation } from "./operations.js";
import { signDelivery, type WebhookSecrets } from "./sign.js";

export interface DriverSettings {
  instances: Instances;
  db: () => ProofDb;
  secrets: WebhookSecrets;
  tokens: { service: string; admin: string };
  /** Operations in flight at once. */
  concurrency: number;
  /** An operation still without a definitive answer after this long is given up (and fails the run). */
  giveUpMs: number;
  startedAtMs: number;
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/**
 * Sends operations in order, `concurrency` at a time, each to a live instance picked
 * at random (a load balancer), and retries it like its real caller would until it has
 * a definitive answer: a provider redelivers on anything but 2xx, a client retries a
 * spend with the same Idempotency-Key after a timeout or a 5xx.
 */
export class Driver {
  readonly answers = new Map<number, Answer>();
  readonly attempts: AttemptRecord[] = [];
  readonly #done = new Map<number, Promise<void>>();
  readonly #ops = new Map<number, Operation>();
  readonly #lastHeaders = new Map<number, { headers: Record<string, string>; atMs: number }>();

  constructor(private readonly settings: DriverSettings) {}

  now(): number {
    return Date.now() - this.settings.startedAtMs;
  }

  operation(id: number): Operation | undefined {
    return this.#ops.get(id);
  }

  async runEpoch(operations: Operation[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < operations.length) {
        const op = operations[next++]!;
        this.#ops.set(op.id, op);
        const done = this.#execute(op);
        this.#done.set(op.id, done);
        await done;
      }
    };
    await Promise.all(Array.from({ length: this.settings.concurrency }, worker));
  }

  async #execute(op: Operation): Promise<void> {
    const startMs = this.now();
    if (op.kind === "drift") return this.#drift(op, startMs);
    if (op.kind === "spend" && op.firstOf !== undefined) await this.#done.get(op.firstOf);
    let request: { path: string; headers: () => Record<string, string>; body: string; well: boolean } | null;
    if (op.kind === "reverse_adjustment") {
      await this.#done.get(op.adjustOp);
      const adjusted = this.answers.get(op.adjustOp);
      const entryId = adjusted?.status === 201 ? (adjusted.body as { entry?: { id?: number } }).entry?.id : undefined;
      // Nothing to reverse: the adjustment was refused. Recorded as skipped (-1).
      if (entryId === undefined) return void this.answers.set(op.id, { status: -1, body: null, attempts: 0, latencyMs: 0, answeredAtMs: startMs });
      request = this.#json(`/api/admin/entries/${entryId}/reverse`, this.settings.tokens.admin, op.key, { reason: "proof: reverse an adjustment" });
    } else if (op.kind === "spend") {
      request = this.#json(`/api/wallets/${op.uid}/spend`, this.settings.tokens.service, op.key, { amount: op.amount, reason: "proof spend" });
    } else if (op.kind === "adjust") {
      request = this.#json(`/api/admin/wallets/${op.uid}/adjustments`, this.settings.tokens.admin, op.key, { amount: op.amount, reason: "proof adjustment" });
    } else {
      request = this.#delivery(op);
    }
    let attempts = 0;
    for (;;) {
      attempts++;
      const live = this.settings.instances.live();
      let reply: HttpReply = { status: 0, body: null };
      let instance = -1;
      if (live.length > 0) {
        instance = live[Math.floor(Math.random() * live.length)]!;
        const headers = request.headers();
        if (op.kind === "delivery") this.#lastHeaders.set(op.id, { headers, atMs: this.now() });
        reply = await send(this.settings.instances.port(instance), "POST", request.path, headers, request.body);
      }
      if (instance >= 0) this.attempts.push({ atMs: this.now(), status: reply.status, instance, well: request.well, ...(reply.failure ? { failure: reply.failure } : {}) });
      if (reply.status !== 0 && reply.status < 500) {
        this.answers.set(op.id, { status: reply.status, body: reply.body, attempts, latencyMs: this.now() - startMs, answeredAtMs: this.now() });
        return;
      }
      if (this.now() - startMs > this.settings.giveUpMs) {
        this.answers.set(op.id, { status: reply.status, body: reply.body, attempts, latencyMs: this.now() - startMs, answeredAtMs: this.now() });
        return;
      }
      await sleep(50 + Math.random() * 150);
    }
  }

  #json(path: string, token: string, key: string, body: object) {
    const headers = { "content-type": "application/json", authorization: `Bearer ${token}`, "idempotency-key": key };
    return { path, headers: () => headers, body: JSON.stringify(body), well: true };
  }

  #delivery(op: DeliveryOp) {
    const path = op.provider === "paynow" ? "/api/webhooks/paynow" : "/api/webhooks/stripe";
    let first = true;
    const headers = () => {
      // A provider's own retry resends the very same signed request, if still fresh.
      const original = op.sameSignature && op.duplicateOf !== undefined ? this.#lastHeaders.get(op.duplicateOf) : undefined;
      const reuse = first && original !== undefined && this.now() - original.atMs < 240_000;
      first = false;
      return reuse ? original.headers : signDelivery(op.provider, op.body, this.settings.secrets, op.id);
    };
    return { path, headers, body: op.body, well: true };
  }

  async #drift(op: Extract<Operation, { kind: "drift" }>, startMs: number): Promise<void> {
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        const applied = await plantDrift(this.settings.db(), op);
        this.answers.set(op.id, { status: 200, body: null, attempts, latencyMs: this.now() - startMs, answeredAtMs: this.now(), applied });
        return;
      } catch (error) {
        if (this.now() - startMs > this.settings.giveUpMs) {
          this.answers.set(op.id, { status: 0, body: String(error), attempts, latencyMs: this.now() - startMs, answeredAtMs: this.now() });
          return;
        }
        await sleep(200);
      }
    }
  }
}
