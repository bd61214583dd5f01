import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReconciliation } from "../reconcile/runReconciliation.js";
import type { Db } from "../storage/openDatabase.js";
import { exportFolder, firestoreLines, reckonLines, type LegacyUser } from "../../test/support/legacyExport.js";
import { refuseEntriesFor } from "../../test/support/refuseEntries.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { createTestDatabase, ENGINES, invariantViolations, type TestDatabase } from "../../test/support/testDatabase.js";
import { BATCH_USERS, importWallets, type ImportSummary } from "./importWallets.js";
import type { ImportFormat } from "./LegacyRecord.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");

const ALICE: LegacyUser = {
  uid: "alice",
  points: 70,
  entries: [
    { id: "a1", amount: 100, at: "2025-01-02T10:00:00Z", note: "pack of 100" },
    { id: "a2", amount: -30, at: "2025-01-03T10:00:00.250Z" },
  ],
};
// The old store shows 55 but its history sums to 50: drift of +5 found before day one.
const BOB: LegacyUser = { uid: "bob", points: 55, entries: [{ id: "b1", amount: 50, at: "2025-02-01T00:00:00+02:00" }] };
// A balance with no history at all: drift of its whole balance.
const CAROL: LegacyUser = { uid: "carol", points: 12, entries: [] };
const DAVE: LegacyUser = { uid: "dave", points: 0, entries: [] };

async function entriesOf(db: Db) {
  return db.kysely
    .selectFrom("ledger_entries")
    .select(["uid", "amount", "kind", "source", "source_ref", "created_at", "reason", "idempotency_key"])
    .orderBy("uid")
    .orderBy("created_at")
    .execute();
}

async function walletsOf(db: Db) {
  return Object.fromEntries((await db.kysely.selectFrom("wallets").select(["uid", "points"]).execute()).map((row) => [row.uid, row.points]));
}

// On SQLite the suite runs twice: batches committed on the caller's connection (small
// exports), and by the import's writer thread (large ones), which must answer the same.
const VARIANTS = ENGINES.flatMap((engine) => (engine === "sqlite" ? [false, true] : [false]).map((writerThread) => ({ engine, writerThread })));

for (const { engine, writerThread } of VARIANTS) {
  describe(`legacy import [${engine}${writerThread ? ", writer thread" : ""}]`, () => {
    const files = exportFolder();
    let database: TestDatabase;
    const fresh = async () => {
      await database?.drop();
      database = await createTestDatabase(engine);
      return database.db;
    };
    const run = (db: Db, file: string, format: ImportFormat, dryRun = false): Promise<ImportSummary> =>
      importWallets(db, { file, format, dryRun, actor: "cli:test", now: NOW, writerThread });
    afterAll(async () => {
      await database?.drop();
      files.remove();
    });

    for (const format of ["reckon", "firestore"] as const) {
      const lines = format === "reckon" ? reckonLines : firestoreLines;
      it(`a ${format}-format export imports every wallet with its history, original times and ids, and reports the drift`, async () => {
        const db = await fresh();
        const summary = await run(db, files.write(`${format}.jsonl`, lines([ALICE, BOB, CAROL, DAVE])), format);
        expect(summary).toMatchObject({ outcome: "imported", users: 4, usersSkipped: 0, entriesPosted: 3, entriesAlreadyImported: 0, problems: [], mismatches: [] });
        expect(summary.drift).toEqual([
          { uid: "bob", line: 4, exportedPoints: 55, entriesPoints: 50, drift: 5 },
          { uid: "carol", line: 6, exportedPoints: 12, entriesPoints: 0, drift: 12 },
        ]);
        expect(await entriesOf(db)).toEqual([
          { uid: "alice", amount: 100, kind: "purchase", source: "import", source_ref: "a1", created_at: "2025-01-02T10:00:00.000Z", reason: "pack of 100", idempotency_key: "import:alice/a1" },
          { uid: "alice", amount: -30, kind: "spend", source: "import", source_ref: "a2", created_at: "2025-01-03T10:00:00.250Z", reason: null, idempotency_key: "import:alice/a2" },
          { uid: "bob", amount: 50, kind: "purchase", source: "import", source_ref: "b1", created_at: "2025-01-31T22:00:00.000Z", reason: null, idempotency_key: "import:bob/b1" },
        ]);
        // Balances are the old store's, as they were: the drift is carried over for reconciliation to heal.
        expect(await walletsOf(db)).toEqual({ alice: 70, bob: 55, carol: 12 });
        expect(await invariantViolations(db)).toEqual([
          { uid: "bob", points: 55, sum: 50 },
          { uid: "carol", points: 12, sum: 0 },
        ]);
      });
    }

    it("a dry run reports what it would do and writes nothing", async () => {
      const db = await fresh();
      const before = await tableHashes(db);
      const summary = await run(db, files.write("dry.jsonl", reckonLines([ALICE, BOB])), "reckon", true);
      expect(summary).toMatchObject({ outcome: "dry_run", users: 2, entriesPosted: 3, drift: [{ uid: "bob", drift: 5 }] });
      expect(await tableHashes(db)).toEqual(before);
    });

    it("importing the same file again changes nothing", async () => {
      const db = await fresh();
      const file = files.write("twice.jsonl", reckonLines([ALICE, BOB, CAROL, DAVE]));
      await run(db, file, "reckon");
      const before = await tableHashes(db);
      const again = await run(db, file, "reckon");
      expect(again).toMatchObject({ entriesPosted: 0, entriesAlreadyImported: 3, walletsCreated: 0, usersSkipped: 0, mismatches: [] });
      expect(await tableHashes(db)).toEqual(before);
    });

    it("an overlapping later export adds only the new entries", async () => {
      const db = await fresh();
      await run(db, files.write("first.jsonl", reckonLines([ALICE, BOB])), "reckon");
      const aliceLater: LegacyUser = { ...ALICE, points: 90, entries: [...ALICE.entries, { id: "a3", amount: 20, at: "2025-03-01T00:00:00Z" }] };
      const erin: LegacyUser = { uid: "erin", points: 5, entries: [{ id: "e1", amount: 5, at: "2025-03-02T00:00:00Z" }] };
      const summary = await run(db, files.write("second.jsonl", reckonLines([aliceLater, BOB, erin])), "reckon");
      expect(summary).toMatchObject({ users: 3, entriesPosted: 2, entriesAlreadyImported: 3, walletsCreated: 1, mismatches: [] });
      expect((await entriesOf(db)).map((entry) => entry.idempotency_key)).toEqual(["import:alice/a1", "import:alice/a2", "import:alice/a3", "import:bob/b1", "import:erin/e1"]);
      expect(await walletsOf(db)).toEqual({ alice: 90, bob: 55, erin: 5 });
    });

    it("an entry whose content changed since it was imported is refused with its user, and nothing of that user moves", async () => {
      const db = await fresh();
      await run(db, files.write("orig.jsonl", reckonLines([ALICE])), "reckon");
      const before = await tableHashes(db);
      const changed: LegacyUser = { ...ALICE, points: 80, entries: [{ ...ALICE.entries[0]!, amount: 110 }, ALICE.entries[1]!, { id: "a3", amount: 5, at: "2025-03-01T00:00:00Z" }] };
      const summary = await run(db, files.write("changed.jsonl", reckonLines([changed])), "reckon");
      expect(summary.problems).toEqual([{ uid: "alice", line: 2, code: "entry_changed", problem: expect.stringContaining("a1") }]);
      expect(summary).toMatchObject({ users: 0, usersSkipped: 1, entriesPosted: 0 });
      expect(await tableHashes(db)).toEqual(before);
    });

    it("a malformed line is reported with its number, its user is skipped whole, and the rest is imported", async () => {
      const db = await fresh();
      const good = (uid: string): LegacyUser => ({ uid, points: 10, entries: [{ id: `${uid}-1`, amount: 10, at: "2025-01-01T00:00:00Z" }] });
      const lines: (string | Buffer)[] = [
        ...reckonLines([good("u01")]),
        ...reckonLines([good("u02")]),
        "{not json", // line 5: u02's history is broken
        ...reckonLines([good("u03")]),
        '{"type":"entry","uid":"u03","id":"x","amount":2.5,"at":"2025-01-01T00:00:00Z"}', // line 8: fractional
        ...reckonLines([{ uid: "u04", points: -3, entries: [] }]), // line 9: a negative balance
        ...reckonLines([good("u05")]),
        '{"type":"entry","uid":"u05","id":"big","amount":99999999999999999999,"at":"2025-01-01T00:00:00Z"}', // line 12: huge
        ...reckonLines([good("u06")]),
        '{"type":"entry","id":"nouid","amount":1,"at":"2025-01-01T00:00:00Z"}', // line 15: no uid, inside u06's lines
        ...reckonLines([good("u07")]),
        Buffer.from('{"type":"entry","uid":"u07","id":"n\u0000ul","amount":1,"at":"2025-01-01T00:00:00Z"}'), // line 18: raw NUL byte
        '{"type":"wallet","uid":"u08\\u0000","points":1}', // line 19: escaped NUL in the uid
        ...reckonLines([good("u09")]),
        '{"type":"entry","uid":"u09","id":"late","amount":1.0000000000000001,"at":"2025-01-01T00:00:00Z"}', // line 22: a fraction JSON rounds away
        ...reckonLines([good("u10")]),
      ];
      const summary = await run(db, files.write("bad.jsonl", lines), "reckon");
      expect(summary.problems.map((problem) => [problem.line, problem.uid, problem.code])).toEqual([
        [5, "u02", "not_json"],
        [8, "u03", "invalid_amount"],
        [9, "u04", "invalid_points"],
        [12, "u05", "invalid_amount"],
        [15, "u06", "missing_uid"],
        [18, "u07", "not_json"],
        [19, "u07", "nul_character"],
        [22, "u09", "invalid_amount"],
      ]);
      expect(summary).toMatchObject({ users: 2, usersSkipped: 7 });
      expect(await walletsOf(db)).toEqual({ u01: 10, u10: 10 });
      expect((await entriesOf(db)).map((entry) => entry.uid)).toEqual(["u01", "u10"]);
    });

    it("a batch the database fails to write stops the import: the batches before it stay, nothing after it is written", async () => {
      const db = await fresh();
      // Users of one entry each: three batches (of BATCH_USERS users), the second holding u1500's index.
      const users = Array.from({ length: BATCH_USERS * 2.5 }, (_, index): LegacyUser => {
        const uid = `u${String(index).padStart(4, "0")}`;
        return { uid, points: 10, entries: [{ id: `${uid}-1`, amount: 10, at: "2025-01-01T00:00:00Z" }] };
      });
      const refused = users[BATCH_USERS * 1.5]!.uid;
      await refuseEntriesFor(db, refused);
      await expect(run(db, files.write("fails.jsonl", reckonLines(users)), "reckon")).rejects.toThrow(new RegExp(`refused by test trigger for ${refused}`));
      const wallets = await db.kysely.selectFrom("wallets").select("uid").orderBy("uid").execute();
      expect(wallets.map((wallet) => wallet.uid)).toEqual(users.slice(0, BATCH_USERS).map((user) => user.uid));
      expect(await invariantViolations(db)).toEqual([]);
    });

    it("the first reconciliation after an import heals the reported drift by its policy", async () => {
      const db = await fresh();
      const summary = await run(db, files.write("heal.jsonl", reckonLines([ALICE, BOB, CAROL])), "reckon");
      const outcome = await runReconciliation(db, { date: "2026-03-01", policy: "adjust_ledger", chunkUsers: 100, mode: "start", now: () => NOW });
      expect(outcome).toMatchObject({ outcome: "completed", run: { usersChecked: 3, violations: 2, adjustmentAbsTotal: 17 } });
      const heals = await db.kysely.selectFrom("ledger_entries").select(["uid", "amount"]).where("kind", "=", "reconcile_adjustment").orderBy("uid").execute();
      expect(heals).toEqual(summary.drift.map((drift) => ({ uid: drift.uid, amount: drift.drift })));
      expect(await invariantViolations(db)).toEqual([]);
      // The healed history is what the import found; importing the file again still changes nothing.
      const before = await tableHashes(db);
      await run(db, files.write("heal-again.jsonl", reckonLines([ALICE, BOB, CAROL])), "reckon");
      expect(await tableHashes(db)).toEqual(before);
    });
  });
}
