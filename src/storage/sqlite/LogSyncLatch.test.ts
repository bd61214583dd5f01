import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, ENGINES, invariantViolations, type TestDatabase } from "../../../test/support/testDatabase.js";
import { catalogue, flakeId, makeSecrets, NOW, paynowOrder, sendPaynow, walletPoints, webhookConfig, type WebhookHarness } from "../../../test/support/webhookFixtures.js";
import { createApiToken } from "../../auth/apiTokens.js";
import { buildApp } from "../../http/buildApp.js";
import { postEntry } from "../../ledger/postEntry.js";
import { openDatabase, type Db } from "../openDatabase.js";
import { withTransaction } from "../withTransaction.js";
import { LogSyncLatch, sqliteLogSyncFailed } from "./LogSyncLatch.js";
import { WalSync, WalSyncError } from "./walSync.js";

const PRODUCT = "458255405240287377";
const POINTS_PER_UNIT = 7;
const UID = "latch_user";

/** The app as `serve` builds it over `db`, its log lines kept, with a service token. */
async function serving(db: Db, lines: string[]): Promise<{ harness: WebhookHarness; service: Record<string, string> }> {
  const secrets = makeSecrets();
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const app = await buildApp({ db, config: webhookConfig(secrets), now: () => NOW, log: true, logStream });
  const token = await createApiToken(db.kysely, { role: "service", name: `latch-${flakeId()}`, now: NOW });
  return { harness: { app, secrets, clock: { now: NOW } }, service: { authorization: `Bearer ${token.token}` } };
}

describe("LogSyncLatch", () => {
  it("keeps the first failure, refuses with it from then on, and reports it once to each listener, early or late", () => {
    const latch = new LogSyncLatch();
    const early: WalSyncError[] = [];
    latch.whenTripped((failure) => early.push(failure));
    expect(() => latch.throwIfTripped()).not.toThrow();
    const first = latch.trip(new Error("EIO"));
    expect(first).toBeInstanceOf(WalSyncError);
    expect(latch.trip(new Error("ENOSPC"))).toBe(first);
    expect(latch.trip(new WalSyncError({ cause: new Error("EROFS") }))).toBe(first);
    expect(() => latch.throwIfTripped()).toThrow(first);
    const late: WalSyncError[] = [];
    latch.whenTripped((failure) => late.push(failure));
    expect(early).toEqual([first]);
    expect(late).toEqual([first]);
    expect(first.message).toContain("EIO");
    // The gauge is the process's: this latch belonged to no database.
    sqliteLogSyncFailed.reset();
  });
});

describe.runIf(ENGINES.includes("sqlite"))("after an fsync of the SQLite log failed, writes are refused until the process restarts [sqlite]", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    await catalogue(database.db, "paynow", PRODUCT, POINTS_PER_UNIT);
    await withTransaction(database.db, (trx) => postEntry(trx, { uid: UID, kind: "purchase", amount: 100, idempotencyKey: "latch-buy", source: "test", now: NOW }));
  });
  afterAll(async () => {
    await database.drop();
  });

  it("a failed fsync of the main connection's own write refuses API writes (503 writes_suspended) and deliveries (503 webhook_not_stored); reads go on; health fails with the reason; logged once; a restart writes again", async () => {
    let failing = false;
    let fsyncs = 0;
    // The main connection as `serve` opens it, before any delivery started the writer thread.
    const db = openDatabase(database.url, {
      walSyncOf: () =>
        new WalSync(async () => {
          fsyncs++;
          if (failing) throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
        }),
    });
    const lines: string[] = [];
    const { harness, service } = await serving(db, lines);
    const spend = (key: string) => harness.app.inject({ method: "POST", url: `/api/wallets/${UID}/spend`, headers: { ...service, "idempotency-key": key }, payload: { amount: 10 } });
    const failedOrder = paynowOrder({ orderId: flakeId(), uid: UID, lines: [{ productId: PRODUCT, quantity: 2 }] });
    try {
      expect((await harness.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
      expect((await spend("latch-spend-1")).statusCode).toBe(201);
      expect((await sqliteLogSyncFailed.get()).values[0]?.value ?? 0).toBe(0);

      failing = true;
      const failed = await spend("latch-spend-2");
      expect(failed.statusCode).toBe(503);
      expect(failed.json().error.code).toBe("writes_suspended");
      failing = false;
      const fsyncsAtFailure = fsyncs;

      // Later fsyncs would succeed, and prove nothing: no write begins, none is answered.
      const refused = await spend("latch-spend-3");
      expect(refused.statusCode).toBe(503);
      expect(refused.json().error.code).toBe("writes_suspended");
      const delivery = await sendPaynow(harness, failedOrder);
      expect(delivery.statusCode).toBe(503);
      expect(delivery.json().error.code).toBe("webhook_not_stored");
      expect(fsyncs).toBe(fsyncsAtFailure);
      expect(await walletPoints(database.db, UID)).toBe(100 - 10 - 10);

      const wallet = await harness.app.inject({ method: "GET", url: `/api/wallets/${UID}`, headers: service });
      expect(wallet.statusCode).toBe(200);
      expect(wallet.json()).toMatchObject({ points: 80 });

      for (const url of ["/healthz", "/readyz"]) {
        const health = await harness.app.inject({ method: "GET", url });
        expect(health.statusCode, url).toBe(503);
        expect(health.json().error, url).toMatchObject({ code: "writes_suspended", reason: "wal_fsync_failed" });
      }
      const errors = lines.map((line) => JSON.parse(line)).filter((line) => line.level >= 50);
      expect(errors.map((line) => line.msg)).toEqual(["an fsync of the SQLite write-ahead log failed: writes are refused until the process restarts"]);
      expect(errors[0].err.message).toContain("EIO");
      expect((await sqliteLogSyncFailed.get()).values[0]?.value).toBe(1);
    } finally {
      await harness.app.close();
      await db.close();
    }

    // A new process: the file reopened. What was refused is sent again and lands once.
    const restarted = openDatabase(database.url);
    const again = await serving(restarted, []);
    try {
      expect((await again.harness.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
      const retried = await again.harness.app.inject({ method: "POST", url: `/api/wallets/${UID}/spend`, headers: { ...again.service, "idempotency-key": "latch-spend-3" }, payload: { amount: 10 } });
      expect(retried.statusCode).toBe(201);
      expect((await sendPaynow(again.harness, failedOrder)).statusCode).toBe(200);
      expect(await walletPoints(restarted, UID)).toBe(100 - 30 + 2 * POINTS_PER_UNIT);
      expect(await invariantViolations(restarted)).toEqual([]);
    } finally {
      await again.harness.app.close();
      await restarted.close();
    }
  });
});
