import BetterSqlite3 from "better-sqlite3";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, ENGINES, invariantViolations, type TestDatabase } from "../../test/support/testDatabase.js";
import { catalogue, flakeId, NOW, paynowOrder, sendPaynow, walletPoints, webhookHarness, type WebhookHarness } from "../../test/support/webhookFixtures.js";
import { postEntry } from "../ledger/postEntry.js";
import { openDatabase } from "../storage/openDatabase.js";
import { WalSync } from "../storage/sqlite/walSync.js";
import { withTransaction } from "../storage/withTransaction.js";
import { deliveryWriterFor } from "./deliveryWriterFor.js";
import { WebhookWriterThread, WriterUnavailableError } from "./WebhookWriterThread.js";

const PRODUCT = "458255405240287377";
const POINTS_PER_UNIT = 7;

/** The file's path, for a second connection of the test's own. */
const pathOf = (database: TestDatabase) => database.url.slice("file:".length);

/** Settles to "pending" unless `promise` settled before the current turn ends. */
async function stateOf(promise: Promise<unknown>): Promise<"settled" | "pending"> {
  const pending = Symbol("pending");
  const first = await Promise.race([promise.then(() => "settled" as const, () => "settled" as const), new Promise((resolve) => setImmediate(() => resolve(pending)))]);
  return first === pending ? "pending" : "settled";
}

/**
 * A moment for the deliveries to reach the writer thread, which then waits on the lock
 * the test holds. Nothing is timed: if they have not arrived yet, they are still unanswered.
 */
const reachTheWriter = () => new Promise((resolve) => setTimeout(resolve, 100));

/** Waits, a turn at a time, until `done` holds; nothing is timed. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe.runIf(ENGINES.includes("sqlite"))("the SQLite webhook writer thread [sqlite]", () => {
  let database: TestDatabase;
  let harness: WebhookHarness;
  // One database (and one thread start) for the file: each thread start loads the ledger's modules.
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    harness = await webhookHarness(database.db);
    await catalogue(database.db, "paynow", PRODUCT, POINTS_PER_UNIT);
  });
  afterAll(async () => {
    await harness.app.close();
    await database.drop();
  });

  const order = (uid: string, quantity = 1) => paynowOrder({ orderId: flakeId(), uid, lines: [{ productId: PRODUCT, quantity }] });

  it("is the writer of a file-backed SQLite database, and answers after its batch committed", async () => {
    expect(deliveryWriterFor(database.db)).toBeInstanceOf(WebhookWriterThread);
    const response = await sendPaynow(harness, order("thread_first", 3));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: "processed", duplicate: false });
    // Read on the main thread's own connection: the ACK came after the commit.
    expect(await walletPoints(database.db, "thread_first")).toBe(3 * POINTS_PER_UNIT);
  });

  it("answers /healthz and serves reads while the writer waits for the write lock", async () => {
    await sendPaynow(harness, order("thread_busy"));
    const holder = new BetterSqlite3(pathOf(database));
    try {
      holder.pragma("busy_timeout = 0");
      holder.exec("BEGIN IMMEDIATE");
      const delivery = sendPaynow(harness, order("thread_busy", 2));
      await reachTheWriter();
      // On the main thread, a writer stuck on the lock would hold the event loop: neither would answer.
      const health = await harness.app.inject({ method: "GET", url: "/healthz" });
      expect(health.statusCode).toBe(200);
      expect(await walletPoints(database.db, "thread_busy")).toBe(POINTS_PER_UNIT);
      expect(await stateOf(delivery)).toBe("pending");
      holder.exec("COMMIT");
      expect((await delivery).statusCode).toBe(200);
      expect(await walletPoints(database.db, "thread_busy")).toBe(3 * POINTS_PER_UNIT);
    } finally {
      holder.close();
    }
  });

  it("fails with 503 the deliveries a dying thread had not answered, starts anew, and a resent delivery is applied once", async () => {
    await sendPaynow(harness, order("thread_warm"));
    const orders = Array.from({ length: 5 }, (_, index) => order(`thread_dead_${index % 2}`, index + 1));
    const holder = new BetterSqlite3(pathOf(database));
    let answers;
    try {
      holder.exec("BEGIN IMMEDIATE");
      const sent = orders.map((payload) => sendPaynow(harness, payload));
      await reachTheWriter();
      const thread = deliveryWriterFor(database.db) as WebhookWriterThread;
      const ended = thread.worker!.terminate();
      holder.exec("COMMIT");
      await ended;
      answers = await Promise.all(sent);
    } finally {
      holder.close();
    }
    for (const answer of answers) {
      expect(answer.statusCode).toBe(503);
      expect(answer.json().error.code).toBe("webhook_not_stored");
    }
    // The provider sends them again (twice, as retries may): a new thread stores each once.
    const resent = await Promise.all([...orders, ...orders].map((payload) => sendPaynow(harness, payload)));
    expect(resent.map((answer) => answer.statusCode)).toEqual(resent.map(() => 200));
    const ids = orders.map((payload) => payload.event_id);
    const stored = await database.db.kysely.selectFrom("webhook_events").select("event_id").where("event_id", "in", ids).execute();
    expect(stored).toHaveLength(orders.length);
    expect(await walletPoints(database.db, "thread_dead_0")).toBe((1 + 3 + 5) * POINTS_PER_UNIT);
    expect(await walletPoints(database.db, "thread_dead_1")).toBe((2 + 4) * POINTS_PER_UNIT);
    expect(await invariantViolations(database.db)).toEqual([]);
  });

  it("lets the main connection's writes take turns with deliveries: none fails, every point lands once", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ uid: fc.constantFrom("turn_a", "turn_b", "turn_c"), quantity: fc.integer({ min: 1, max: 4 }), adjust: fc.integer({ min: -3, max: 9 }).filter((points) => points !== 0) }), {
          minLength: 20,
          maxLength: 80,
        }),
        async (steps) => {
          const before = new Map<string, number>();
          for (const uid of ["turn_a", "turn_b", "turn_c"]) before.set(uid, (await walletPoints(database.db, uid)) ?? 0);
          const expected = new Map(before);
          const work: Promise<unknown>[] = [];
          for (const step of steps) {
            expected.set(step.uid, expected.get(step.uid)! + step.quantity * POINTS_PER_UNIT + step.adjust);
            work.push(
              sendPaynow(harness, order(step.uid, step.quantity)).then((answer) => expect(answer.statusCode).toBe(200)),
              withTransaction(database.db, (trx) =>
                postEntry(trx, {
                  uid: step.uid,
                  kind: "admin_adjustment",
                  amount: step.adjust,
                  idempotencyKey: `turn-${flakeId()}`,
                  source: "test",
                  belowZero: "allow",
                  now: new Date(),
                }),
              ).then((outcome) => expect(outcome.outcome).toBe("posted")),
            );
          }
          await Promise.all(work);
          for (const [uid, points] of expected) expect(await walletPoints(database.db, uid)).toBe(points);
        },
      ),
      { numRuns: 4 },
    );
    expect(await invariantViolations(database.db)).toEqual([]);
  });
  it("acknowledges a delivery only once an fsync of the log, begun after its commit, has ended; after a failed fsync nothing more is acknowledged until a restart, which stores the refused delivery", async () => {
    const fsyncs: { resolve(): void; reject(error: Error): void }[] = [];
    const db = openDatabase(database.url);
    // The test ends the first two fsyncs by hand; any later one succeeds at once, as one after a failure may.
    const heldFsync = () => new Promise<void>((resolve, reject) => (fsyncs.push({ resolve, reject }), fsyncs.length > 2 && resolve()));
    const thread = WebhookWriterThread.start(db, db.separateWriter!, () => new WalSync(heldFsync));
    const verified = (payload: ReturnType<typeof order>) => ({
      provider: "paynow" as const,
      rawBody: Buffer.from(JSON.stringify(payload)),
      headers: "{}",
      receivedAt: NOW,
      reversalPolicy: "allow_negative" as const,
      environment: "test" as const,
    });
    const failedOrder = order("thread_fsync", 1);
    const laterOrders = [order("thread_fsync_after", 1), order("thread_fsync_after", 2)];
    try {
      const first = thread.submit(verified(order("thread_fsync", 2)));
      await until(() => fsyncs.length === 1);
      // Committed (the main connection sees it), not yet on disk: not answered.
      expect(await walletPoints(database.db, "thread_fsync")).toBe(2 * POINTS_PER_UNIT);
      expect(await stateOf(first)).toBe("pending");
      fsyncs[0]!.resolve();
      await expect(first).resolves.toMatchObject({ outcome: "stored", status: "processed", duplicate: false });

      const second = thread.submit(verified(failedOrder));
      await until(() => fsyncs.length === 2);
      fsyncs[1]!.reject(new Error("EIO"));
      await expect(second).rejects.toBeInstanceOf(WriterUnavailableError);
      await until(() => thread.worker === null);
      expect(db.logSync!.failure).toMatchObject({ code: "RECKON_WAL_SYNC_FAILED" });

      // A new thread's first fsync could succeed although the failed pages never reached
      // the disk: no thread starts, nothing is written, nothing is answered but a refusal.
      const later = laterOrders.map((payload) => thread.submit(verified(payload)));
      for (const refused of later) await expect(refused).rejects.toBeInstanceOf(WriterUnavailableError);
      expect(thread.worker).toBeNull();
      expect(fsyncs).toHaveLength(2);
      expect(await walletPoints(database.db, "thread_fsync_after")).toBeNull();
      // The main connection's writes are refused too, before they begin; its reads go on.
      await expect(
        withTransaction(db, (trx) => postEntry(trx, { uid: "thread_fsync", kind: "purchase", amount: 5, idempotencyKey: `after-${flakeId()}`, source: "test", now: NOW })),
      ).rejects.toMatchObject({ code: "RECKON_WAL_SYNC_FAILED" });
      expect(await walletPoints(db, "thread_fsync")).toBe(3 * POINTS_PER_UNIT);
    } finally {
      await db.close();
    }

    // As a new process would: the file reopened, a new writer whose fsyncs succeed. The
    // providers send again what was refused; each lands once.
    const restarted = openDatabase(database.url);
    try {
      const writer = WebhookWriterThread.start(restarted, restarted.separateWriter!);
      expect(restarted.logSync!.failure).toBeNull();
      const resent = await Promise.all([failedOrder, ...laterOrders].map((payload) => writer.submit(verified(payload))));
      expect(resent.map((written) => written.outcome)).toEqual(["stored", "stored", "stored"]);
      expect(await walletPoints(restarted, "thread_fsync")).toBe(3 * POINTS_PER_UNIT);
      expect(await walletPoints(restarted, "thread_fsync_after")).toBe(3 * POINTS_PER_UNIT);
      expect(await invariantViolations(restarted)).toEqual([]);
    } finally {
      await restarted.close();
    }
  });

  it("a write of the main connection beside a running thread waits for the thread's own fsync of the log; a failed one fails it, ends the thread and refuses that connection's later writes", async () => {
    const fsyncs: { resolve(): void; reject(error: Error): void }[] = [];
    let ownFsyncs = 0;
    const db = openDatabase(database.url, { walSyncOf: () => new WalSync(async () => void ownFsyncs++) });
    const thread = WebhookWriterThread.start(db, db.separateWriter!, () => new WalSync(() => new Promise<void>((resolve, reject) => fsyncs.push({ resolve, reject }))));
    const purchase = (key: string) =>
      withTransaction(db, (trx) => postEntry(trx, { uid: "main_beside_thread", kind: "purchase", amount: 5, idempotencyKey: key, source: "test", now: NOW }));
    try {
      const delivered = thread.submit({
        provider: "paynow",
        rawBody: Buffer.from(JSON.stringify(order("main_beside_thread", 1))),
        headers: "{}",
        receivedAt: NOW,
        reversalPolicy: "allow_negative",
        environment: "test",
      });
      await until(() => fsyncs.length === 1);
      fsyncs[0]!.resolve();
      await delivered;

      const first = purchase("main_beside_thread_1");
      await until(() => fsyncs.length === 2);
      expect(await walletPoints(database.db, "main_beside_thread")).toBe(POINTS_PER_UNIT + 5);
      expect(await stateOf(first)).toBe("pending");
      fsyncs[1]!.resolve();
      await expect(first).resolves.toMatchObject({ outcome: "posted" });

      const second = purchase("main_beside_thread_2");
      await until(() => fsyncs.length === 3);
      fsyncs[2]!.reject(new Error("EIO"));
      await expect(second).rejects.toMatchObject({ code: "RECKON_WAL_SYNC_FAILED" });
      await until(() => thread.worker === null);
      await expect(purchase("main_beside_thread_3")).rejects.toMatchObject({ code: "RECKON_WAL_SYNC_FAILED" });
      // The refused write never began: no fsync of its own, nothing written.
      expect(ownFsyncs).toBe(0);
      expect(await walletPoints(database.db, "main_beside_thread")).toBe(POINTS_PER_UNIT + 10);
    } finally {
      await db.close();
    }
  });

  it("commits every delivery sent before the database closes", async () => {
    const orders = Array.from({ length: 150 }, (_, index) => order(`thread_close_${index % 3}`));
    const sent = orders.map((payload) => sendPaynow(harness, payload));
    // Let the requests reach the writer, then close while batches are still queued.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const closed = database.db.close();
    const answers = await Promise.all(sent);
    await closed;
    const stored = answers.filter((answer) => answer.statusCode === 200).length;
    // A request still being read when close began is refused (503, sent again later), never lost.
    for (const answer of answers) expect([200, 503]).toContain(answer.statusCode);
    const reopened = openDatabase(database.url, { writerThread: false });
    try {
      const ids = orders.map((payload) => payload.event_id);
      const rows = await reopened.kysely.selectFrom("webhook_events").select("event_id").where("event_id", "in", ids).execute();
      expect(rows).toHaveLength(stored);
      expect(stored).toBeGreaterThan(0);
      expect(await invariantViolations(reopened)).toEqual([]);
    } finally {
      await reopened.close();
    }
    database = { ...database, db: openDatabase(database.url, { writerThread: false }) };
  });
});
