import { afterAll, beforeAll, expect, it } from "vitest";
import { backfillHarness, type BackfillHarness } from "../../../test/support/backfillKit.js";
import { plantStripeStory, POINTS_PER_UNIT, STRIPE_PRICE, type StripeStory } from "../../../test/support/stripeSyncScenario.js";
import { describeEachEngine, invariantViolations } from "../../../test/support/testDatabase.js";
import { catalogue, walletPoints } from "../../../test/support/webhookFixtures.js";

const DAY = "2026-01-01";

describeEachEngine("provider sync with Stripe: the fake sells, webhooks are lost, the sync finds and repairs them", (db) => {
  let h: BackfillHarness;
  let story: StripeStory;

  beforeAll(async () => {
    h = await backfillHarness(db());
    await catalogue(db(), "stripe", STRIPE_PRICE, POINTS_PER_UNIT);
    story = await plantStripeStory(h, DAY, 12);
  });
  afterAll(() => story?.api.close());

  it("before the sync, what the lost deliveries carried is missing and everything delivered is applied once", async () => {
    const wrongBefore = [];
    for (const [uid, points] of story.expectedPoints) {
      if ((await walletPoints(db(), uid)) !== points) wrongBefore.push(uid);
    }
    // Lost: a purchase (7), a refund (1), a dispute (3), a dispute's win (4).
    expect(wrongBefore.sort()).toEqual(["stripe_sync_1", "stripe_sync_3", "stripe_sync_4", "stripe_sync_7"]);
    expect(await walletPoints(db(), "stripe_sync_7")).toBeNull();
    expect(await invariantViolations(db())).toEqual([]);
  });
});
