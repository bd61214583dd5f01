import fc from "fast-check";
import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import type { RefusalReason } from "./planHeal.js";
import { LINE_ACTIONS, lineTotals, type ReportLine } from "./reportHashes.js";
import { partitionsUserIds, summarizeLines } from "./summarizeLines.js";
import { writeLines } from "./writeLines.js";

const DATE = "2026-04-02";
/** Ids that sort differently by code unit, code point and byte, and need JSON escapes. */
const UID_CHARS = ["a", "b", "z", "A", "0", "9", "_", "-", "é", "漢", "🙂", "\uffff", '"', "\\", " "];

const uid = fc.array(fc.constantFrom(...UID_CHARS), { minLength: 1, maxLength: 6 }).map((chars) => chars.join(""));
const line = fc.record({
  delta: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: -1_000_000_000, max: 1_000_000_000 })),
  action: fc.constantFrom(...LINE_ACTIONS, "ok", "ok"),
  points: fc.integer({ min: 0, max: 1_000_000 }),
});

let runs = 0;

/** A run with `lines` stored, chunked at the `cuts`-th user ids in the database's own order. */
async function storeRun(db: Db, lines: (ReportLine & { uid: string })[], cuts: number[]): Promise<number> {
  runs += 1;
  const runId = await withTransaction(db, async (trx) => {
    const inserted = await trx
      .insertInto("reconciliation_runs")
      .values({ run_date: new Date(Date.UTC(2025, 0, runs)).toISOString().slice(0, 10), status: "finalizing", heal_policy: "report_only", started_at: "2026-04-02T02:00:00.000Z" })
      .returning("id")
      .executeTakeFirstOrThrow();
    await writeLines(trx, inserted.id, DATE, lines);
    return inserted.id;
  });
  const ordered = await db.kysely.selectFrom("reconciliation_user_reports").select("uid").where("run_id", "=", runId).orderBy("uid").execute();
  const bounds = [...new Set(cuts.filter((cut) => cut < ordered.length).map((cut) => ordered[cut]!.uid))];
  const sortedBounds = ordered.map((row) => row.uid).filter((id) => bounds.includes(id));
  const edges: (string | null)[] = [null, ...sortedBounds, null];
  const chunks = edges.slice(0, -1).map((after, index) => ({ run_id: runId, chunk_no: index, uid_after: after, uid_last: edges[index + 1] ?? null, status: "done" as const }));
  await db.kysely.insertInto("reconciliation_chunks").values(chunks).execute();
  return runId;
}

function toReportLine(uidText: string, drawn: { delta: number; action: (typeof LINE_ACTIONS)[number]; points: number }, index: number): ReportLine {
  const refused = drawn.action === "refused";
  return {
    uid: uidText,
    walletPoints: drawn.points,
    ledgerSum: drawn.points - drawn.delta,
    ledgerCount: index % 5,
    delta: drawn.action === "ok" ? 0 : drawn.delta,
    action: drawn.action,
    adjustmentEntryId: null,
    reason: refused ? ("exceeds_entry_limit" as RefusalReason) : null,
    detail: refused && index % 2 === 0 ? "detail" : null,
  };
}

describeEachEngine("finalize's fold of stored lines", (db) => {
  it("gives the figures and digest of a read of every line, for any lines and chunk boundaries", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(uid, { minLength: 0, maxLength: 60 }), fc.array(line, { minLength: 60, maxLength: 60 }), fc.array(fc.nat(60), { maxLength: 8 }), async (uids, drawn, cuts) => {
        const lines = uids.map((id, index) => toReportLine(id, drawn[index]!, index));
        const runId = await storeRun(db(), lines, cuts);

        const folded = await summarizeLines(db().kysely, runId, DATE);
        // The reference: every line read back one by one in user-id order, its hash recomputed.
        const everyLine = await summarizeLines(db().kysely, runId, DATE, () => undefined);
        const model = { usersChecked: 0, violations: 0, refused: 0, adjustmentAbsTotal: 0 };
        for (const one of lines) {
          const totals = lineTotals(one);
          model.usersChecked += 1;
          model.violations += totals.violation;
          model.refused += totals.refused;
          model.adjustmentAbsTotal += totals.adjusted;
        }
        expect(folded).toEqual(everyLine);
        expect(folded).toEqual({ ...model, digest: everyLine.digest });
      }),
      { numRuns: 40 },
    );
  });

  it("a run whose chunk rows are gone is still folded whole", async () => {
    const lines = ["b", "a", "c", "é"].map((id, index) => toReportLine(id, { delta: index === 1 ? 7 : 0, action: index === 1 ? "adjusted" : "ok", points: 10 }, index));
    const runId = await storeRun(db(), lines, [1, 2]);
    const withChunks = await summarizeLines(db().kysely, runId, DATE);
    await db().kysely.deleteFrom("reconciliation_chunks").where("run_id", "=", runId).execute();

    const without = await summarizeLines(db().kysely, runId, DATE);

    expect(without).toEqual(withChunks);
    expect(without).toMatchObject({ usersChecked: 4, violations: 1, adjustmentAbsTotal: 7 });
  });

  it("only ranges from none to none, each starting where the last ended, partition the user ids", () => {
    const chunk = (after: string | null, last: string | null) => ({ uid_after: after, uid_last: last });
    expect(partitionsUserIds([chunk(null, null)])).toBe(true);
    expect(partitionsUserIds([chunk(null, "m"), chunk("m", null)])).toBe(true);
    expect(partitionsUserIds([])).toBe(false);
    expect(partitionsUserIds([chunk("a", null)])).toBe(false);
    expect(partitionsUserIds([chunk(null, "m")])).toBe(false);
    expect(partitionsUserIds([chunk(null, "m"), chunk("n", null)])).toBe(false);
    expect(partitionsUserIds([chunk(null, "m"), chunk(null, null)])).toBe(false);
  });
});

