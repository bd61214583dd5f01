import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import { openDatabase } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { SLICE_USERS } from "./observeRange.js";
import { inThreadSlices } from "./observeSlice.js";
import { SweepReaderThread } from "./SweepReaderThread.js";

const NOW = new Date("2026-03-10T02:00:00.000Z");
const DATE = "2026-03-09";

/** Ids whose JSON needs escapes or that are not ASCII (the thread must hash them as this one does), plain ids, and ids that sort around them. */
const UIDS = ['quote"d', "back\\slash", "tab\there", "ctl\u0001", "é漢字🙂", "\uffff-high", "sep\u2028", ...Array.from({ length: 40 }, (_, index) => `u${String(index).padStart(3, "0")}`)];

let database: TestDatabase;
let reader: SweepReaderThread;

beforeAll(async () => {
  database = await createTestDatabase("sqlite");
  const db = database.db;
  for (const [index, uid] of UIDS.entries()) {
    await withTransaction(db, (trx) => postEntry(trx, { uid, kind: "purchase", amount: 1 + index * 7, idempotencyKey: `k-${index}`, source: "test", now: NOW }));
    // A second entry for some, so counts differ.
    if (index % 3 === 0) await withTransaction(db, (trx) => postEntry(trx, { uid, kind: "purchase", amount: 999_999_999_999, idempotencyKey: `k2-${index}`, source: "test", now: NOW }));
  }
  // Drifted users: left to the heal, in order with the others.
  await sql`UPDATE wallets SET points = points + 3 WHERE uid IN ('u005', 'é漢字🙂')`.execute(db.kysely);
  await sql`UPDATE wallets SET points = -points WHERE uid = 'u017'`.execute(db.kysely);
  reader = SweepReaderThread.forRun(db, DATE, 5_000)!;
}, 60_000);

afterAll(async () => {
  await reader?.close();
  await database?.drop();
});

it("on a SQLite file, the reader thread reads and hashes every slice exactly as the serving connection does", async () => {
  expect(reader).toBeInstanceOf(SweepReaderThread);
  const inThread = inThreadSlices(database.db.kysely, DATE);
  const sorted = (await sql<{ uid: string }>`SELECT uid FROM wallets ORDER BY uid`.execute(database.db.kysely)).rows.map((row) => row.uid);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: -1, max: sorted.length - 1 }), fc.integer({ min: -1, max: sorted.length - 1 }), fc.integer({ min: 1, max: 60 }), async (from, to, limit) => {
      const range = { after: from < 0 ? null : sorted[from]!, last: to < 0 ? null : sorted[to]! };
      const expected = await inThread.observe(range, limit);
      expect(await reader.observe(range, limit)).toEqual(expected);
    }),
    { numRuns: 40 },
  );
  const whole = await reader.observe({ after: null, last: null }, 1_000);
  expect(whole.seen).toBe(UIDS.length);
  expect(whole.drifted).toEqual(sorted.filter((uid) => ["u005", "é漢字🙂", "u017"].includes(uid)));
});

it("a reader thread that died fails every read asked of it with a clear error, and closes without waiting", async () => {
  const doomed = SweepReaderThread.forRun(database.db, DATE, 5_000)!;
  await doomed.observe({ after: null, last: null }, 5);
  await doomed.worker.terminate();
  await expect(doomed.observe({ after: null, last: null }, 5)).rejects.toThrow(/reader thread/);
  await doomed.close();
});

it("chunks of one slice have nothing to read ahead: no thread", () => {
  expect(SweepReaderThread.forRun(database.db, DATE, SLICE_USERS)).toBeNull();
});

it("SQLite in memory has no file to share: its slices are read in this thread", async () => {
  const memory = openDatabase("file::memory:");
  try {
    expect(SweepReaderThread.forRun(memory, DATE, 5_000)).toBeNull();
  } finally {
    await memory.close();
  }
});

describe.runIf(ENGINES.includes("postgres"))("PostgreSQL", () => {
  it("observes a chunk in one statement of its own backend: no reader thread", async () => {
    const pg = await createTestDatabase("postgres", { migrateAs: null });
    try {
      expect(SweepReaderThread.forRun(pg.db, DATE, 5_000)).toBeNull();
    } finally {
      await pg.drop();
    }
  });
});
