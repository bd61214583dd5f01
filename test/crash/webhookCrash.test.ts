import { expect, it } from "vitest";
import { describeEachEngine } from "../support/testDatabase.js";
import { runCrashCycles } from "./runCrashCycles.js";

/** The small version of `npm run test:crash`, bounded so CI runs it on every change. */
describeEachEngine("SIGKILLed mid-flow, the server loses no ACKed delivery and applies each once", (db) => {
  it("three kills", async () => {
    const result = await runCrashCycles({ db: db(), url: db().displayUrl, kills: 3, ratePerSecond: 300, cycleMs: 800 });
    // At least 20 ACKs per cycle before each kill; some of them repeat an event already ACKed.
    expect(result.acked).toBeGreaterThanOrEqual(30);
    expect(result.audit).toEqual({
      ackedEvents: result.acked,
      ackedNotStored: 0,
      ackedNotApplied: 0,
      doubleCredits: 0,
      pointsMismatch: 0,
      walletsNotEqualEntries: 0,
      leftReceived: 0,
    });
  });
});
