import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../storage/openDatabase.js";
import { exportFolder, reckonLines, type LegacyUser } from "../../test/support/legacyExport.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { importWallets } from "./importWallets.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");

/** A legacy store's history: entries per user, some seen by an earlier export, some new. */
const entryArb = fc.record({
  id: fc.stringMatching(/^[a-z0-9]{1,6}$/),
  amount: fc.integer({ min: -1_000, max: 1_000 }).filter((amount) => amount !== 0),
  at: fc.integer({ min: Date.parse("2024-01-01T00:00:00Z"), max: Date.parse("2026-01-01T00:00:00Z") }).map((ms) => new Date(ms).toISOString()),
});
const userArb = fc.record({
  uid: fc.constantFrom("u1", "u2", "u3", "u4", "u5"),
  points: fc.integer({ min: 0, max: 5_000 }),
  entries: fc.uniqueArray(entryArb, { selector: (entry) => entry.id, maxLength: 6 }),
});
/** Users of one export: each at most once. */
const exportArb = fc.uniqueArray(userArb, { selector: (user) => user.uid, maxLength: 5 });

/** What the ledger should hold after importing `exports` in order, worked out without Reckon's code. */
function model(exports: LegacyUser[][]): { entries: string[]; wallets: Record<string, number> } {
  const entries = new Map<string, string>();
  const wallets: Record<string, number> = {};
  for (const users of exports) {
    for (const user of users) {
      const fresh = user.entries.filter((entry) => !entries.has(`${user.uid}/${entry.id}`));
      for (const entry of fresh) entries.set(`${user.uid}/${entry.id}`, `${user.uid}/${entry.id}:${entry.amount}@${entry.at}`);
      if (user.uid in wallets) wallets[user.uid]! += fresh.reduce((sum, entry) => sum + entry.amount, 0);
      else if (user.points !== 0 || user.entries.length > 0) wallets[user.uid] = user.points;
    }
  }
  return { entries: [...entries.values()].sort(), wallets };
}

/** A later export of the same store: its entries keep their content, more may follow. */
function laterExport(first: LegacyUser[], extra: LegacyUser[], keep: boolean[]): LegacyUser[] {
  const byUid = new Map(first.filter((_, index) => keep[index % keep.length] ?? true).map((user) => [user.uid, user]));
  for (const user of extra) {
    const earlier = byUid.get(user.uid) ?? first.find((candidate) => candidate.uid === user.uid);
    const known = new Set(earlier?.entries.map((entry) => entry.id));
    const added = user.entries.filter((entry) => !known.has(entry.id));
    byUid.set(user.uid, { uid: user.uid, points: user.points, entries: [...(earlier?.entries ?? []), ...added] });
  }
  return [...byUid.values()];
}

function prefixed(users: LegacyUser[], prefix: string): LegacyUser[] {
  return users.map((user) => ({ ...user, uid: `${prefix}${user.uid}` }));
}

async function stateOf(db: Db, prefix: string) {
  const entries = await db.kysely
    .selectFrom("ledger_entries")
    .select(["uid", "source_ref", "amount", "created_at"])
    .where("uid", "like", `${prefix}%`)
    .where("source", "=", "import")
    .execute();
  const wallets = await db.kysely.selectFrom("wallets").select(["uid", "points"]).where("uid", "like", `${prefix}%`).execute();
  return {
    entries: entries.map((row) => `${row.uid.slice(prefix.length)}/${row.source_ref}:${row.amount}@${row.created_at}`).sort(),
    wallets: Object.fromEntries(wallets.map((row) => [row.uid.slice(prefix.length), row.points])),
  };
}

for (const engine of ENGINES) {
  describe(`legacy import properties [${engine}]`, () => {
    const files = exportFolder();
    let database: TestDatabase;
    let runs = 0;
    beforeAll(async () => {
      database = await createTestDatabase(engine);
    });
    afterAll(async () => {
      await database.drop();
      files.remove();
    });
    const load = (users: LegacyUser[]) =>
      importWallets(database.db, { file: files.write(`run-${runs}-${Math.random()}.jsonl`, reckonLines(users)), format: "reckon", dryRun: false, actor: "cli:test", now: NOW });

    it("importing an export twice leaves exactly what importing it once leaves", async () => {
      await fc.assert(
        fc.asyncProperty(exportArb, async (users) => {
          const prefix = `t${++runs}_`;
          const mine = prefixed(users, prefix);
          await load(mine);
          const once = await tableHashes(database.db);
          expect(await stateOf(database.db, prefix)).toEqual(model([users]));
          const again = await load(mine);
          expect(again.entriesPosted).toBe(0);
          expect(await tableHashes(database.db)).toEqual(once);
        }),
        { numRuns: 15 },
      );
    }, 120_000);

    it("an overlapping later export adds only the entries the earlier one did not have", async () => {
      await fc.assert(
        fc.asyncProperty(exportArb, exportArb, fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), async (first, extra, keep) => {
          const prefix = `o${++runs}_`;
          const second = laterExport(first, extra, keep);
          const before = await load(prefixed(first, prefix));
          const after = await load(prefixed(second, prefix));
          const expected = model([first, second]);
          expect(await stateOf(database.db, prefix)).toEqual(expected);
          expect(before.entriesPosted + after.entriesPosted).toBe(expected.entries.length);
        }),
        { numRuns: 15 },
      );
    }, 120_000);
  });
}
