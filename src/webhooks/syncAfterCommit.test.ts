import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { catalogue, flakeId, NOW, paynowOrder, walletPoints } from "../../test/support/webhookFixtures.js";
import { openDatabase, type Db } from "../storage/openDatabase.js";
import { WalSync, WalSyncError } from "../storage/sqlite/walSync.js";
import { pendingDelivery } from "./pendingDelivery.js";
import { MAX_BATCH, WebhookCommitQueue } from "./WebhookCommitQueue.js";

const PRODUCT = "458255405240287399";
const POINTS_PER_UNIT = 5;

/** Settles to "pending" unless `promise` settled before the current turn ends. */
async function stateOf(promise: Promise<unknown>): Promise<"settled" | "pending"> {
  const pending = Symbol("pending");
  const first = await Promise.race([promise.then(() => "settled" as const, () => "settled" as const), new Promise((resolve) => setImmediate(() => resolve(pending)))]);
  return first === pending ? "pending" : "settled";
}

/** Waits, a turn at a time, until `done` holds; nothing is timed. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 5));
}

function delivery(uid: string, quantity: number) {
  const body = Buffer.from(JSON.stringify(paynowOrder({ orderId: flakeId(), uid, lines: [{ productId: PRODUCT, quantity }] })));
  return pendingDelivery({ provider: "paynow", rawBody: body, headers: "{}", receivedAt: NOW, reversalPolicy: "allow_negative" });
}

describe.runIf(ENGINES.includes("sqlite"))("the writer thread's commits, fsynced after they return [sqlite]", () => {
  let database: TestDatabase;
  let writer: Db;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    await catalogue(database.db, "paynow", PRODUCT, POINTS_PER_UNIT);
    writer = openDatabase(database.url, { writerThread: false, walSyncAfterCommit: true });
  });
  afterAll(async () => {
    await writer.close();
    await database.drop();
  });

  it("commit without fsync only on a connection that has a WalSync to fsync after them", () => {
    expect(writer.walSync).toBeInstanceOf(WalSync);
    expect(writer.sqlite!.pragma("synchronous", { simple: true })).toBe(1); // NORMAL
    expect(database.db.walSync).toBeNull();
    expect(database.db.sqlite!.pragma("synchronous", { simple: true })).toBe(2); // FULL
  });

  it("answers a delivery only after an fsync that started after its commit, while the next batch commits meanwhile; a failed fsync refuses its batch", async () => {
    const fsyncs: { resolve(): void; reject(error: Error): void }[] = [];
    const held: Db = { ...writer, walSync: new WalSync(() => new Promise((resolve, reject) => fsyncs.push({ resolve, reject }))) };
    const queue = new WebhookCommitQueue(held, MAX_BATCH, 1);

    const first = queue.submit(delivery("sync_first", 2));
    await until(() => fsyncs.length === 1);
    // Committed (another connection sees it) but not yet on disk: not answered.
    expect(await walletPoints(database.db, "sync_first")).toBe(2 * POINTS_PER_UNIT);
    expect(await stateOf(first)).toBe("pending");

    const second = queue.submit(delivery("sync_second", 1));
    await until(async () => (await walletPoints(database.db, "sync_second")) === POINTS_PER_UNIT);
    expect(await stateOf(first)).toBe("pending");
    expect(await stateOf(second)).toBe("pending");

    fsyncs[0]!.resolve();
    await expect(first).resolves.toEqual({ duplicate: false, status: "processed" });
    // The first fsync may have begun before the second batch's commit: it does not answer it.
    expect(await stateOf(second)).toBe("pending");
    await until(() => fsyncs.length === 2);
    fsyncs[1]!.reject(new Error("EIO"));
    await expect(second).rejects.toBeInstanceOf(WalSyncError);
  });

  it("fsyncs the log SQLite writes, also when the database is opened through a symbolic link", async () => {
    const folder = mkdtempSync(join(tmpdir(), "reckon-wal-link-"));
    const link = join(folder, "linked.sqlite");
    symlinkSync(database.url.slice("file:".length), link);
    const linked = openDatabase(`file:${link}`, { writerThread: false, walSyncAfterCommit: true });
    try {
      const queue = new WebhookCommitQueue(linked, MAX_BATCH, 1);
      await expect(queue.submit(delivery("sync_linked", 3))).resolves.toEqual({ duplicate: false, status: "processed" });
      expect(await walletPoints(database.db, "sync_linked")).toBe(3 * POINTS_PER_UNIT);
    } finally {
      await linked.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("drains only once the fsync after the last commit has ended", async () => {
    const fsyncs: (() => void)[] = [];
    const held: Db = { ...writer, walSync: new WalSync(() => new Promise<void>((resolve) => fsyncs.push(resolve))) };
    const queue = new WebhookCommitQueue(held, MAX_BATCH, 1);
    const stored = queue.submit(delivery("sync_drain", 1));
    const drained = queue.drain();
    await until(() => fsyncs.length === 1);
    expect(await stateOf(drained)).toBe("pending");
    fsyncs[0]!();
    await drained;
    expect(await stateOf(stored)).toBe("settled");
  });
});
