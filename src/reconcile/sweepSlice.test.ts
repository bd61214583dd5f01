import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropRangeGuards } from "../../test/support/dropRangeGuards.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { claimChunk } from "./claimChunk.js";
import { EXACT_POINTS_MAX } from "./exactFigures.js";
import { openRun } from "./openRun.js";
import { lineHash } from "./reportHashes.js";
import { sweepSlice } from "./sweepSlice.js";

const T0 = new Date("2026-11-01T02:00:00.000Z");
const MAX = BigInt(EXACT_POINTS_MAX);

/** Characters whose JSON needs escapes, that are not ASCII, or whose UTF-16 and UTF-8 orders differ. */
const UID_CHARS = ["a", "Z", "0", '"', "\\", "\n", "\u0001", "\u007f", "é", "漢", "\u2028", "\uE000", "\uFFFD", "😀", "𝔸"];
const uidArb = fc.array(fc.constantFrom(...UID_CHARS), { minLength: 1, maxLength: 4 }).map((chars) => chars.join(""));
/** Balances at and just past the exact range's edges, and ordinary ones. */
const pointsArb = fc.oneof(
  fc.constantFrom(MAX, MAX + 1n, -MAX, -MAX - 1n, 0n),
  fc.bigInt({ min: -1_000_000n, max: 1_000_000n }),
  fc.bigInt({ min: MAX - 3n, max: MAX + 3n }),
);
const userArb = fc.record({
  uid: uidArb,
  points: pointsArb,
  /** How the wallet's balance is split into entries (0: none). */
  entries: fc.integer({ min: 0, max: 3 }),
  drift: fc.oneof(fc.constant(0n), fc.constant(0n), fc.constantFrom(1n, -1n, MAX)),
});
type User = { uid: string; points: bigint; entries: number; drift: bigint };

describe.runIf(ENGINES.includes("sqlite"))("a slice observed and written in one statement [sqlite]", () => {
  let database: TestDatabase;
  let day = 0;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    // Figures past the ledger's ±10^15 are what the exact range is for (exactRange.test.ts says why they can exist).
    await dropRangeGuards(database.db);
  });
  afterAll(async () => {
    await database.drop();
  });

  /** Users under `prefix`, written in SQL (exact 64-bit figures): entries summing to `points`, the wallet at `points + drift`. */
  function seed(prefix: string, users: readonly User[]): void {
    const sqlite = database.db.sqlite!;
    const wallet = sqlite.prepare(`INSERT INTO wallets (uid, points, version, negative_flagged, created_at, updated_at) VALUES (?, ?, 1, 0, ?, ?)`);
    const entry = sqlite.prepare(`INSERT INTO ledger_entries (uid, amount, kind, idempotency_key, reverses_entry_id, balance_after, source, source_ref, reason, content_hash, created_at)
      VALUES (?, ?, 'purchase', ?, NULL, 0, 'test', NULL, NULL, '', ?)`);
    sqlite.transaction(() => {
      for (const user of users) {
        const uid = prefix + user.uid;
        // With no entry the ledger sums to 0, so the wallet's points are its drift alone.
        const sum = user.entries === 0 ? 0n : user.points;
        wallet.run(uid, sum + user.drift, T0.toISOString(), T0.toISOString());
        let left = sum;
        for (let index = 0; index < user.entries; index++) {
          const amount = index === user.entries - 1 ? left : left / 2n;
          left -= amount;
          entry.run(uid, amount, `${uid}-${index}`, T0.toISOString());
        }
      }
    })();
  }

  async function claimed(date: string) {
    const opened = await openRun(database.db, { date, policy: "report_only", chunkUsers: 1_000_000, mode: "start", now: T0 });
    if (opened.outcome !== "opened") throw new Error(opened.outcome);
    const chunk = await claimChunk(database.db, opened.runId, "sweeper", T0);
    if (!chunk) throw new Error("no chunk");
    return { runId: opened.runId, chunkNo: chunk.chunk_no };
  }

  const nextDay = () => new Date(Date.UTC(2026, 0, ++day)).toISOString().slice(0, 10);

  it("its lines and hashes are lineHash's for settled users, every other user goes to the heal in order, slice by slice", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(userArb, { selector: (user) => user.uid, minLength: 1, maxLength: 24 }), fc.integer({ min: 1, max: 7 }), async (users, limit) => {
        const date = nextDay();
        const prefix = `p${day}_`;
        seed(prefix, users);
        const { runId, chunkNo } = await claimed(date);
        // The users of `prefix` in the database's order: every id under it sorts between the prefix and the prefix with '_' raised to '`'.
        const range = { after: prefix, last: `p${day}\`` };
        const ordered = database.db.sqlite!.prepare(`SELECT uid FROM wallets WHERE uid > ? AND uid <= ? ORDER BY uid`).pluck().all(range.after, range.last) as string[];
        const byUid = new Map(users.map((user) => [prefix + user.uid, user]));
        const expected = { hashes: [] as string[], drifted: [] as string[], driftedAt: [] as number[] };
        for (const uid of ordered) {
          const user = byUid.get(uid)!;
          const sum = user.entries === 0 ? 0n : user.points;
          const walletPoints = sum + user.drift;
          if (walletPoints === sum && walletPoints >= -MAX && walletPoints <= MAX) {
            const figure = Number(walletPoints);
            expected.hashes.push(
              lineHash(date, { uid, walletPoints: figure, ledgerSum: figure, ledgerCount: user.entries, delta: 0, action: "ok", adjustmentEntryId: null, reason: null, detail: null }),
            );
          } else {
            expected.drifted.push(uid);
            expected.driftedAt.push(expected.hashes.length);
          }
        }
        const seen = { hashes: [] as string[], drifted: [] as string[], driftedAt: [] as number[], checked: 0, inserted: 0 };
        let after: string | null = range.after;
        for (;;) {
          const swept = await sweepSlice(database.db, { runId, date, chunkNo, holder: "sweeper", after, last: range.last, limit });
          if (swept.outcome !== "swept") throw new Error(swept.outcome);
          const { rows } = swept;
          if (rows.checked === 0) break;
          expect(rows.lastUid).toBe(ordered[seen.checked + rows.checked - 1]);
          for (const [index, uid] of rows.drifted.entries()) {
            seen.drifted.push(uid);
            seen.driftedAt.push(seen.hashes.length + rows.driftedAt[index]!);
          }
          seen.hashes.push(...rows.hashes);
          seen.checked += rows.checked;
          seen.inserted += rows.inserted;
          after = rows.lastUid;
          if (rows.checked < limit) break;
        }
        expect(seen).toEqual({ ...expected, checked: ordered.length, inserted: expected.hashes.length });
        const stored = database.db.sqlite!.prepare(`SELECT line_hash FROM reconciliation_user_reports WHERE run_id = ? ORDER BY uid`).pluck().all(runId);
        expect(stored).toEqual(expected.hashes);
      }),
      { numRuns: 40 },
    );
  });

  it("a chunk lost between two slices writes nothing more: its earlier slices' lines stay, the rest are never written", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 30 }), fc.integer({ min: 1, max: 5 }), fc.nat(), async (count, limit, lostAfterSeed) => {
        const date = nextDay();
        const prefix = `q${day}_`;
        seed(prefix, Array.from({ length: count }, (_, index) => ({ uid: String(index).padStart(3, "0"), points: BigInt(index + 1), entries: 1, drift: 0n })));
        const { runId, chunkNo } = await claimed(date);
        const slices = Math.ceil(count / limit);
        const lostAfter = lostAfterSeed % slices;
        let after: string | null = prefix;
        for (let slice = 0; slice < lostAfter; slice++) {
          const swept = await sweepSlice(database.db, { runId, date, chunkNo, holder: "sweeper", after, last: `q${day}\``, limit });
          if (swept.outcome !== "swept") throw new Error(swept.outcome);
          after = swept.rows.lastUid;
        }
        await database.db.kysely.updateTable("reconciliation_chunks").set({ claimed_by: "another" }).where("run_id", "=", runId).execute();
        const lost = await sweepSlice(database.db, { runId, date, chunkNo, holder: "sweeper", after, last: `q${day}\``, limit });
        expect(lost).toEqual({ outcome: "chunk_lost" });
        const stored = database.db.sqlite!.prepare(`SELECT COUNT(*) FROM reconciliation_user_reports WHERE run_id = ?`).pluck().get(runId);
        expect(stored).toBe(lostAfter * limit);
      }),
      { numRuns: 20 },
    );
  });

  it("a slice whose sum overflows 64 bits sends all its users to the heal and writes none of their lines", async () => {
    const date = nextDay();
    seed("o_", [
      { uid: "a", points: 5n, entries: 1, drift: 0n },
      { uid: "b", points: 2n ** 62n, entries: 1, drift: 0n },
      { uid: "c", points: 7n, entries: 1, drift: 0n },
    ]);
    // A second entry of 2^62 takes b's sum past 2^63 - 1.
    database.db.sqlite!.prepare(`INSERT INTO ledger_entries (uid, amount, kind, idempotency_key, reverses_entry_id, balance_after, source, source_ref, reason, content_hash, created_at)
      VALUES ('o_b', ?, 'purchase', 'o_b-x', NULL, 0, 'test', NULL, NULL, '', ?)`).run(2n ** 62n, T0.toISOString());
    const { runId, chunkNo } = await claimed(date);
    const swept = await sweepSlice(database.db, { runId, date, chunkNo, holder: "sweeper", after: "o_", last: "o`", limit: 10 });
    expect(swept).toEqual({ outcome: "swept", rows: { checked: 3, lastUid: "o_c", hashes: [], drifted: ["o_a", "o_b", "o_c"], driftedAt: [0, 0, 0], inserted: 0 } });
    const stored = database.db.sqlite!.prepare(`SELECT COUNT(*) FROM reconciliation_user_reports WHERE run_id = ?`).pluck().get(runId);
    expect(stored).toBe(0);
  });

  it("keeps a line an earlier claimer stored, and says so: fewer inserted than hashes answered", async () => {
    const date = nextDay();
    seed("k_", [
      { uid: "a", points: 3n, entries: 1, drift: 0n },
      { uid: "b", points: 4n, entries: 2, drift: 0n },
    ]);
    const { runId, chunkNo } = await claimed(date);
    database.db.sqlite!.prepare(`INSERT INTO reconciliation_user_reports (run_id, uid, wallet_points, ledger_sum, ledger_count, delta, action, adjustment_entry_id, line_hash)
      VALUES (?, 'k_b', 4, 4, 2, 0, 'ok', NULL, 'earlier')`).run(runId);
    const swept = await sweepSlice(database.db, { runId, date, chunkNo, holder: "sweeper", after: "k_", last: "k`", limit: 10 });
    if (swept.outcome !== "swept") throw new Error(swept.outcome);
    expect(swept.rows).toMatchObject({ checked: 2, lastUid: "k_b", drifted: [], inserted: 1 });
    expect(swept.rows.hashes).toEqual([
      lineHash(date, { uid: "k_a", walletPoints: 3, ledgerSum: 3, ledgerCount: 1, delta: 0, action: "ok", adjustmentEntryId: null, reason: null, detail: null }),
      "earlier",
    ]);
  });
});
