import fc from "fast-check";
import { sql } from "kysely";
import { beforeAll, expect, it } from "vitest";
import { dropRangeGuards } from "../../test/support/dropRangeGuards.js";
import { reportLine } from "../../test/support/reportLine.js";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import type { Db } from "../storage/openDatabase.js";
import { runReconciliation } from "./runReconciliation.js";
import { verifyReports } from "./verifyReports.js";

/**
 * Wallets and ledgers past 2^53 are written straight into the tables on purpose: the
 * ledger refuses to create them, and so does the schema since migration 5, but rows
 * written before it (or by a tool that dropped its guards) can hold anything the
 * columns hold, and reconciliation exists for them. Figures travel as decimal text in SQL literals so
 * the test itself never rounds them.
 */

const NOW = new Date("2026-09-30T02:00:00.000Z");
const now = () => NOW;
const TWO_53 = 2n ** 53n;
const EXACT = TWO_53 - 1n;
const INT64_MAX = 2n ** 63n - 1n;
const ENTRY_MAX = 1_000_000_000_000n;
/** The ledger keeps every balance within ±10^15 (docs/decisions/integers-and-timestamps.md). */
const BALANCE_MAX = 1_000_000_000_000_000n;

async function plantWallet(db: Db, uid: string, points: bigint): Promise<void> {
  await sql`INSERT INTO wallets (uid, points, version, created_at, updated_at)
    VALUES (${uid}, ${sql.raw(points.toString())}, 1, ${NOW.toISOString()}, ${NOW.toISOString()})`.execute(db.kysely);
}

async function plantEntry(db: Db, uid: string, key: string, amount: bigint): Promise<void> {
  await sql`INSERT INTO ledger_entries (uid, amount, kind, idempotency_key, balance_after, source, content_hash, created_at)
    VALUES (${uid}, ${sql.raw(amount.toString())}, 'admin_adjustment', ${key}, 0, 'test', 'planted', ${NOW.toISOString()})`.execute(db.kysely);
}

/** `count` entries of `amount` each in one statement (the 9,010 credits). */
async function plantEntries(db: Db, uid: string, count: number, amount: bigint): Promise<void> {
  await sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
    INSERT INTO ledger_entries (uid, amount, kind, idempotency_key, balance_after, source, content_hash, created_at)
    SELECT ${uid}, ${sql.raw(amount.toString())}, 'purchase', ${uid} || '-' || i, 0, 'test', 'planted', ${NOW.toISOString()} FROM n`.execute(db.kysely);
}

async function reconcile(db: Db, date: string) {
  const result = await runReconciliation(db, { date, policy: "adjust_ledger", chunkUsers: 2, mode: "start", now });
  if (result.outcome !== "completed") throw new Error(`run for ${date}: ${result.outcome}`);
  return result.run;
}

describeEachEngine("reconciliation never reads a wallet or a sum as an inexact number", (db) => {
  beforeAll(() => dropRangeGuards(db()));

  it("9,010 credits of 10^12 and a wallet edited by +1 are refused as out of the exact range, never reported ok", async () => {
    await plantWallet(db(), "issue9", 9_010n * ENTRY_MAX + 1n);
    await plantEntries(db(), "issue9", 9_010, ENTRY_MAX);

    const run = await reconcile(db(), "2026-09-20");

    const line = await reportLine(db(), run.runId, "issue9");
    expect(line).toMatchObject({ action: "refused", reason: "out_of_exact_range" });
    expect(line.detail).toContain(`wallet ${9_010n * ENTRY_MAX + 1n}`);
    expect(line.detail).toContain(`ledger sum ${9_010n * ENTRY_MAX}`);
    expect(line.detail).toContain("drift 1");
    expect(run).toMatchObject({ violations: 1, refused: 1 });
  });

  it("a wallet equal to its ledger but past 2^53 is refused, not ok", async () => {
    await plantWallet(db(), "equal_past", TWO_53 + 1n);
    await plantEntry(db(), "equal_past", "equal-past-1", TWO_53 / 2n);
    await plantEntry(db(), "equal_past", "equal-past-2", TWO_53 / 2n + 1n);

    const run = await reconcile(db(), "2026-09-21");

    expect(await reportLine(db(), run.runId, "equal_past")).toMatchObject({ action: "refused", reason: "out_of_exact_range" });
  });

  it("a drift past 2^53 between two figures inside the range is refused", async () => {
    await plantWallet(db(), "wide_drift", EXACT);
    await plantEntry(db(), "wide_drift", "wide-drift-1", -2n);

    const run = await reconcile(db(), "2026-09-22");

    const line = await reportLine(db(), run.runId, "wide_drift");
    expect(line).toMatchObject({ action: "refused", reason: "out_of_exact_range" });
    expect(line.detail).toContain(`drift ${EXACT + 2n}`);
  });

  it("a ledger whose sum overflows 64 bits and a wallet at the 64-bit maximum are refused; the run completes", async () => {
    await plantWallet(db(), "overflow_sum", 0n);
    await plantEntry(db(), "overflow_sum", "overflow-1", 2n ** 62n);
    await plantEntry(db(), "overflow_sum", "overflow-2", 2n ** 62n);
    await plantWallet(db(), "max_wallet", INT64_MAX);

    const run = await reconcile(db(), "2026-09-23");

    expect(await reportLine(db(), run.runId, "overflow_sum")).toMatchObject({ action: "refused", reason: "out_of_exact_range" });
    expect(await reportLine(db(), run.runId, "max_wallet")).toMatchObject({ action: "refused", reason: "out_of_exact_range" });
    expect((await verifyReports(db().kysely)).problems).toEqual([]);
  });

  it("a line is ok, adjusted or refused exactly as BigInt arithmetic on its wallet and ledger says", async () => {
    const near = (edge: bigint) => fc.bigInt({ min: edge - 3n, max: edge + 3n });
    const figure = fc.oneof(
      near(EXACT), near(-EXACT), near(0n), near(ENTRY_MAX), near(-ENTRY_MAX), near(EXACT - ENTRY_MAX),
      near(BALANCE_MAX), near(-BALANCE_MAX),
      fc.bigInt({ min: -INT64_MAX, max: INT64_MAX }),
    );
    let sample = 0;
    await fc.assert(
      fc.asyncProperty(figure, figure, async (wallet, ledgerSum) => {
        sample += 1;
        const uid = `prop_${sample}`;
        await plantWallet(db(), uid, wallet);
        await plantEntry(db(), uid, `${uid}-1`, ledgerSum);
        const date = new Date(Date.UTC(2026, 0, sample)).toISOString().slice(0, 10);

        const run = await reconcile(db(), date);

        const drift = wallet - ledgerSum;
        const inside = (value: bigint) => value >= -EXACT && value <= EXACT;
        const line = await reportLine(db(), run.runId, uid);
        if (!inside(wallet) || !inside(ledgerSum) || !inside(drift)) {
          expect(line).toMatchObject({ action: "refused", reason: "out_of_exact_range", wallet_points: 0, ledger_sum: 0, delta: 0 });
        } else if (drift === 0n) {
          expect(line).toMatchObject({ action: "ok", wallet_points: Number(wallet), ledger_sum: Number(ledgerSum), delta: 0 });
        } else if (drift > ENTRY_MAX || drift < -ENTRY_MAX) {
          expect(line).toMatchObject({ action: "refused", reason: "exceeds_entry_limit", delta: Number(drift) });
        } else if (wallet > BALANCE_MAX || wallet < -BALANCE_MAX) {
          // The heal would take the ledger's sum to the wallet, outside what the ledger holds.
          expect(line).toMatchObject({ action: "refused", reason: "ledger_refused", delta: Number(drift) });
        } else {
          expect(line).toMatchObject({ action: "adjusted", reason: null, wallet_points: Number(wallet), ledger_sum: Number(ledgerSum), delta: Number(drift) });
        }
      }),
      { numRuns: 30 },
    );
    expect((await verifyReports(db().kysely)).problems).toEqual([]);
  });
});
