import fc from "fast-check";
import { sql } from "kysely";
import { expect, it, vi } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { claimChunk } from "./claimChunk.js";
import { openRun, STALE_AFTER_MS } from "./openRun.js";
import { HEAL_POLICIES } from "./planHeal.js";
import { runReconciliation } from "./runReconciliation.js";
import { summarizeLines } from "./summarizeLines.js";
import { sweepChunk } from "./sweepChunk.js";
import { verifyReports } from "./verifyReports.js";

// Counts the finalize reads of stored lines, so each case can say which way its digest came.
vi.mock("./summarizeLines.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./summarizeLines.js")>();
  return { ...actual, summarizeLines: vi.fn(actual.summarizeLines) };
});

const T0 = new Date("2026-09-01T02:00:00.000Z");
const LATER = new Date(T0.getTime() + STALE_AFTER_MS + 1000);

/** Characters whose order differs between UTF-16 (JavaScript) and UTF-8 bytes (SQLite), among plain ones. */
const UID_CHARS = ["a", "B", "z", "0", "_", "é", "\uE000", "\uFFFD", "😀", "𝔸"];
const uidArb = fc.array(fc.constantFrom(...UID_CHARS), { minLength: 1, maxLength: 4 }).map((chars) => chars.join(""));

const userArb = fc.record({
  uid: uidArb,
  purchases: fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 3 }),
  drift: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: -300, max: 300 })),
});

type Scenario = "alone" | "joined" | "taken_over";

async function seed(db: Db, prefix: string, users: readonly { uid: string; purchases: number[]; drift: number }[]): Promise<void> {
  for (const user of users) {
    const uid = `${prefix}${user.uid}`;
    // A user without purchases still needs a wallet: a purchase and a spend of it would do, one purchase is enough here.
    const amounts = user.purchases.length > 0 ? user.purchases : [1];
    for (const [index, amount] of amounts.entries()) {
      await withTransaction(db, (trx) => postEntry(trx, { uid, kind: "purchase", amount, idempotencyKey: `${uid}-${index}`, source: "test", now: T0 }));
    }
    if (user.drift !== 0) await sql`UPDATE wallets SET points = points + ${user.drift} WHERE uid = ${uid}`.execute(db.kysely);
  }
}

/** Wallets and wallets whose points differ from their entries, counted in SQL (the bench's bare aggregate). */
async function expectedFigures(db: Db): Promise<{ wallets: number; drifted: number }> {
  const counted = await sql<{ wallets: number | string; drifted: number | string }>`
    SELECT COUNT(*) AS wallets, COALESCE(SUM(CASE WHEN w.points <> COALESCE(e.total, 0) THEN 1 ELSE 0 END), 0) AS drifted FROM wallets w
    LEFT JOIN (SELECT uid, SUM(amount) AS total FROM ledger_entries GROUP BY uid) e ON e.uid = w.uid`.execute(db.kysely);
  return { wallets: Number(counted.rows[0]!.wallets), drifted: Number(counted.rows[0]!.drifted) };
}

/** Another process's part: `first` claims chunk 0 and sweeps it (joined) or claims it and goes silent (taken over). */
async function othersPart(db: Db, scenario: Scenario, date: string, policy: (typeof HEAL_POLICIES)[number], chunkUsers: number): Promise<void> {
  if (scenario === "alone") return;
  const opened = await openRun(db, { date, policy, chunkUsers, mode: "start", now: T0 });
  if (opened.outcome !== "opened") throw new Error(opened.outcome);
  const chunk = await claimChunk(db, opened.runId, "first", T0);
  if (!chunk) throw new Error("no chunk");
  if (scenario === "joined") await sweepChunk(db, { runId: opened.runId, date, policy }, chunk, "first", () => T0);
}

describeEachEngine("the run's digest folded during the sweep equals the one read back from its lines", (db, engine) => {
  let day = 0;

  it("on random users, drifts, chunk sizes and policies, alone, joined or taken over: figures match a count in SQL and the chain verifies", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(userArb, { selector: (user) => user.uid, minLength: 1, maxLength: 14 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom(...HEAL_POLICIES),
        fc.constantFrom<Scenario>("alone", "alone", "joined", "taken_over"),
        async (users, chunkUsers, policy, scenario) => {
          day += 1;
          const date = new Date(Date.UTC(2026, 0, day)).toISOString().slice(0, 10);
          await seed(db(), `d${day}_`, users);
          const expected = await expectedFigures(db());
          await othersPart(db(), scenario, date, policy, chunkUsers);
          const reads = vi.mocked(summarizeLines).mock.calls.length;
          const result = await runReconciliation(db(), {
            date, policy, chunkUsers, mode: scenario === "joined" ? "join" : "start", holder: "second",
            now: () => (scenario === "taken_over" ? LATER : T0),
          });
          if (result.outcome !== "completed") throw new Error(result.outcome);
          expect(result.run).toMatchObject({ usersChecked: expected.wallets, violations: expected.drifted });
          // Folded only where this process wrote every line itself (SQLite) and alone; read back otherwise.
          const folded = engine === "sqlite" && scenario === "alone";
          expect(vi.mocked(summarizeLines).mock.calls.length - reads).toBe(folded ? 0 : 1);
          const verified = await verifyReports(db().kysely, { date });
          expect(verified.problems).toEqual([]);
          expect(verified.linesChecked).toBe(expected.wallets);
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});
