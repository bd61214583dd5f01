import fc from "fast-check";
import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { closeFixedFindings } from "./closeStaleFindings.js";
import { storeFindings } from "./storeFindings.js";

const NOW = new Date("2026-06-11T03:00:00.000Z");

describeEachEngine("every open finding is re-checked, a page at a time, however many stand before it", (db) => {
  let round = 0;

  /** An imported delivery that is now processed: what closes a `missing_delivery` as `fixed_by_replay`. */
  async function processDelivery(eventId: string): Promise<void> {
    await db()
      .kysely.insertInto("webhook_events")
      .values({
        provider: "paynow",
        event_id: eventId,
        event_type: "ON_ORDER_COMPLETED",
        status: "processed",
        failure_reason: null,
        failure_detail: null,
        raw_body: Buffer.from("{}"),
        headers: "{}",
        livemode: null,
        waiting_for: null,
        received_at: NOW.toISOString(),
        processed_at: NOW.toISOString(),
      })
      .execute();
  }

  it("closes exactly the findings whose cause is fixed, wherever they sort, once", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 4 }), fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }), async (count, pageSize, fixes) => {
        round += 1;
        const subjects = Array.from({ length: count }, (_, index) => `evt_${round}_${index}`);
        await withTransaction(db(), (trx) =>
          storeFindings(
            trx,
            `bf_round_${round}`,
            subjects.map((subject) => ({ provider: "paynow", kind: "missing_delivery", subject, status: "open", date: "2026-06-10", uid: null, amountMinor: null, detail: {} })),
            NOW,
          ),
        );
        // Which findings get fixed is decided by their place in id order, the order pages follow.
        const byId = await db().kysely.selectFrom("provider_findings").select(["id", "subject"]).where("subject", "in", subjects).orderBy("id").execute();
        const fixed = byId.filter((_, index) => fixes[index]).map((row) => row.subject);
        for (const subject of fixed) await processDelivery(subject);

        const closed = await closeFixedFindings(db(), { provider: "paynow", runId: `bf_close_${round}`, now: NOW }, pageSize);
        expect(closed.map((finding) => finding.subject).sort()).toEqual([...fixed].sort());
        expect(closed.every((finding) => finding.status === "resolved" && finding.closeReason === "fixed_by_replay")).toBe(true);
        const stillOpen = await db().kysely.selectFrom("provider_findings").select("subject").where("subject", "in", subjects).where("status", "=", "open").execute();
        expect(stillOpen.map((row) => row.subject).sort()).toEqual(subjects.filter((subject) => !fixed.includes(subject)).sort());
        const audited = await db().kysely.selectFrom("audit_log").select("subject").where("actor", "=", `provider_sync:bf_close_${round}`).execute();
        expect(audited).toHaveLength(fixed.length);
        // Run again: nothing more to close.
        expect(await closeFixedFindings(db(), { provider: "paynow", runId: `bf_again_${round}`, now: NOW }, pageSize)).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });
});
