import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { backfillDeps } from "../../src/backfill/backfillDeps.js";
import { backfillJob } from "../../src/backfill/backfillJob.js";
import type { BackfillRun } from "../../src/backfill/backfillRuns.js";
import { loadConfig, type Config } from "../../src/config.js";
import { startFakePaynowApi, type FakePaynowApi } from "../../src/demo/fakePaynowApi.js";
import { FakePaynowStore } from "../../src/demo/fakePaynowStore.js";
import { buildApp } from "../../src/http/buildApp.js";
import type { Db } from "../../src/storage/openDatabase.js";
import { catalogue } from "./webhookFixtures.js";

export const PRODUCT = "458255405240287232";
export const POINTS_PER_UNIT = 50;
export const PRICE_MINOR = 500;

/**
 * Reckon's real app and a fake PayNow store that sells points to it: signed webhooks
 * go to `/api/webhooks/paynow` in-process, and the store's Management API answers on
 * loopback. One clock drives both; the API key is made at test time.
 */
export interface PaynowSyncHarness {
  app: FastifyInstance;
  store: FakePaynowStore;
  api: FakePaynowApi;
  config: Config;
  clock: { now: Date };
  /** Starts a provider sync as the job route and the CLI do, and waits for its record. */
  sync(input: { from: string; to: string; dryRun?: boolean; planHash?: string }): Promise<BackfillRun>;
  close(): Promise<void>;
}

export async function paynowSyncHarness(db: Db, start: Date, env: Record<string, string> = {}): Promise<PaynowSyncHarness> {
  const clock = { now: start };
  let app: FastifyInstance | undefined;
  const store = new FakePaynowStore({
    now: () => clock.now,
    deliver: async (rawBody, headers) => (await app!.inject({ method: "POST", url: "/api/webhooks/paynow", headers, payload: rawBody })).statusCode,
  });
  const api = await startFakePaynowApi(store, `pnapi_${randomBytes(16).toString("hex")}`);
  const config = loadConfig({
    PAYNOW_WEBHOOK_SECRETS: store.secrets.join(","),
    PAYNOW_API_KEY: api.apiKey,
    PAYNOW_STORE_ID: store.storeId,
    PAYNOW_API_URL: api.url,
    ...env,
  });
  app = await buildApp({ db, config, now: () => clock.now });
  await catalogue(db, "paynow", PRODUCT, POINTS_PER_UNIT);
  return {
    app,
    store,
    api,
    config,
    clock,
    async sync(input) {
      const started = await backfillJob(backfillDeps(db, config, () => clock.now), config, {
        type: "provider_sync",
        provider: "paynow",
        startDate: input.from,
        endDate: input.to,
        dryRun: input.dryRun ?? false,
        ...(input.planHash ? { planHash: input.planHash } : {}),
      });
      if (started.outcome !== "started") throw new Error(`provider sync refused: ${started.outcome}`);
      return started.done;
    },
    async close() {
      await app!.close();
      await api.close();
    },
  };
}

/** Moves the shared clock forward, so each sale gets its own Snowflake time. */
export function tick(clock: { now: Date }, seconds = 1): void {
  clock.now = new Date(clock.now.getTime() + seconds * 1000);
}

/** One sale of `quantity` units to `uid`. */
export async function sell(harness: PaynowSyncHarness, uid: string | null, quantity = 1) {
  tick(harness.clock);
  return harness.store.sell({ uid, productId: PRODUCT, quantity, priceMinor: PRICE_MINOR });
}
