import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../../test/support/testDatabase.js";
import { postEntry } from "../../ledger/postEntry.js";
import { spendPoints } from "../../ledger/spendPoints.js";
import { openDatabase, type Db } from "../openDatabase.js";
import { withTransaction } from "../withTransaction.js";
import { WalSync, WalSyncError } from "./walSync.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const NORMAL = 1;
const FULL = 2;

/** An fsync of the log the test ends by hand; `committedBefore`: what the database held when it began. */
interface HeldFsync {
  committedBefore: number;
  finish(ok: boolean): void;
}

/** Lets every callback already queued (promises, the thread pool's answers) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 5_000) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Whether `promise` has settled, read without waiting for it. */
function watch<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled, promise };
}

describe.runIf(ENGINES.includes("sqlite"))("the main connection's writes, where a writer thread may share the file [sqlite]", () => {
  let database: TestDatabase;
  let db: Db;
  let fsyncs: HeldFsync[];
  /** Entries in the database, read on the raw handle (what is committed, on disk or not). */
  const entries = () => (db.sqlite!.prepare("select count(*) as n from ledger_entries").get() as { n: number }).n;

  beforeEach(async () => {
    database = await createTestDatabase("sqlite");
    fsyncs = [];
    // The main connection of a file-backed database, as `serve` opens it, its fsyncs held by the test.
    db = openDatabase(database.url, {
      walSyncOf: () =>
        new WalSync(
          () =>
            new Promise<void>((resolve, reject) => {
              fsyncs.push({ committedBefore: entries(), finish: (ok) => (ok ? resolve() : reject(new Error("EIO"))) });
            }),
        ),
    });
  });
  afterEach(async () => {
    for (const fsync of fsyncs) fsync.finish(true);
    await db.close();
    await database.drop();
  });

  it("a spend answered to a client resolves only once an fsync of the log begun after its commit has ended; meanwhile the event loop and the connection serve other queries", async () => {
    const purchase = watch(
      withTransaction(db, (trx) => postEntry(trx, { uid: "synced", kind: "purchase", amount: 50, idempotencyKey: "synced-buy", source: "test", now: NOW })),
    );
    await until(() => fsyncs.length === 1);
    // Committed (the fsync began after the commit), and not answered while its fsync runs.
    expect(fsyncs[0]!.committedBefore).toBe(1);
    await settle();
    expect(purchase.settled()).toBe(false);
    // The connection is not held by the fsync: a read through it answers meanwhile.
    const wallet = await db.kysely.selectFrom("wallets").select("points").where("uid", "=", "synced").executeTakeFirstOrThrow();
    expect(wallet.points).toBe(50);
    // Between writes the connection commits with FULL, for whatever runs on its raw handle.
    expect(db.sqlite!.pragma("synchronous", { simple: true })).toBe(FULL);
    fsyncs[0]!.finish(true);
    expect((await purchase.promise).outcome).toBe("posted");

    const spend = watch(spendPoints(db, { uid: "synced", points: 20, idempotencyKey: "synced-spend", now: NOW }));
    await until(() => fsyncs.length === 2);
    expect(fsyncs[1]!.committedBefore).toBe(2);
    await settle();
    expect(spend.settled()).toBe(false);
    fsyncs[1]!.finish(true);
    const spent = await spend.promise;
    expect(spent.kind === "fresh" && spent.outcome.outcome).toBe("posted");
  });

  it("commits inside a transaction with NORMAL (the fsync comes after) and at rest with FULL", async () => {
    const inside = watch(withTransaction(db, async (trx) => {
      await trx.selectFrom("wallets").select("uid").execute();
      return db.sqlite!.pragma("synchronous", { simple: true });
    }));
    await until(() => fsyncs.length === 1);
    fsyncs[0]!.finish(true);
    expect(await inside.promise).toBe(NORMAL);
    expect(db.sqlite!.pragma("synchronous", { simple: true })).toBe(FULL);
  });

  it("a write outside a transaction (an admin setting a flag) also resolves only after its fsync", async () => {
    const flag = watch(db.kysely.insertInto("runtime_flags").values({ name: "synced-flag", value: "on", updated_at: NOW.toISOString(), updated_by: "test" }).execute());
    await until(() => fsyncs.length === 1);
    await settle();
    expect(flag.settled()).toBe(false);
    expect(db.sqlite!.prepare("select value from runtime_flags where name = 'synced-flag'").get()).toEqual({ value: "on" });
    fsyncs[0]!.finish(true);
    await flag.promise;
  });

  it("a failed fsync fails the write that waited for it, and every later write is refused before it begins; reads go on", async () => {
    await seedPurchase();
    const spend = watch(spendPoints(db, { uid: "failing", points: 5, idempotencyKey: "failing-spend", now: NOW }));
    await until(() => fsyncs.length === 2);
    fsyncs[1]!.finish(false);
    await expect(spend.promise).rejects.toBeInstanceOf(WalSyncError);

    const before = entries();
    await expect(spendPoints(db, { uid: "failing", points: 5, idempotencyKey: "failing-later", now: NOW })).rejects.toBeInstanceOf(WalSyncError);
    await expect(db.kysely.insertInto("runtime_flags").values({ name: "after-failure", value: "on", updated_at: NOW.toISOString(), updated_by: "test" }).execute()).rejects.toBeInstanceOf(WalSyncError);
    expect(entries()).toBe(before);
    expect(db.sqlite!.prepare("select count(*) as n from runtime_flags where name = 'after-failure'").get()).toEqual({ n: 0 });
    // No fsync was asked for the refused writes: they never began.
    expect(fsyncs).toHaveLength(2);
    await expect(db.kysely.selectFrom("wallets").select("points").where("uid", "=", "failing").executeTakeFirstOrThrow()).resolves.toBeDefined();
  });

  async function seedPurchase(): Promise<void> {
    const seeded = withTransaction(db, (trx) => postEntry(trx, { uid: "failing", kind: "purchase", amount: 50, idempotencyKey: "failing-buy", source: "test", now: NOW }));
    await until(() => fsyncs.length === 1);
    fsyncs[0]!.finish(true);
    await seeded;
  }
});
