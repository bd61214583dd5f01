import fc from "fast-check";
import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { openRun } from "./openRun.js";

const NOW = new Date("2026-05-01T02:00:00.000Z");
/** Characters whose order differs between UTF-16 (JavaScript) and the database's, among plain ones. */
const UID_CHARS = ["a", "B", "z", "0", "_", "é", "\uE000", "😀"];
const uidArb = fc.array(fc.constantFrom(...UID_CHARS), { minLength: 1, maxLength: 5 }).map((chars) => chars.join(""));

describeEachEngine("a run's chunks split the wallets every chunkUsers-th user id, in the database's order", (db) => {
  let day = 0;

  it("on random user ids and chunk sizes: each chunk ends on every chunkUsers-th id and the last is open", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(uidArb, { maxLength: 40 }), fc.integer({ min: 1, max: 9 }), async (uids, chunkUsers) => {
        day += 1;
        const date = new Date(Date.UTC(2026, 0, day)).toISOString().slice(0, 10);
        const at = NOW.toISOString();
        for (const uid of uids) {
          await sql`INSERT INTO wallets (uid, points, version, negative_flagged, created_at, updated_at)
            VALUES (${`b${day}_${uid}`}, 0, 0, 0, ${at}, ${at})`.execute(db().kysely);
        }
        const opened = await openRun(db(), { date, policy: "report_only", chunkUsers, mode: "start", now: NOW });
        if (opened.outcome !== "opened") throw new Error(opened.outcome);
        // Every wallet of the database (earlier cases' too), in the database's own order.
        const ordered = (await sql<{ uid: string }>`SELECT uid FROM wallets ORDER BY uid`.execute(db().kysely)).rows.map((row) => row.uid);
        const expected = ordered.filter((_, index) => (index + 1) % chunkUsers === 0);
        const chunks = await db().kysely.selectFrom("reconciliation_chunks").select(["chunk_no", "uid_after", "uid_last"])
          .where("run_id", "=", opened.runId).orderBy("chunk_no").execute();
        expect(chunks.map((chunk) => chunk.uid_last)).toEqual([...expected, null]);
        expect(chunks.map((chunk) => chunk.uid_after)).toEqual([null, ...expected]);
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});
