import { beforeAll } from "vitest";
import type { Db } from "../../src/storage/openDatabase.js";
import { catalogue, webhookHarness, type WebhookHarness } from "./webhookFixtures.js";

/** One catalogue row: provider, product id, points per unit. */
export type CatalogueRow = readonly [provider: string, productId: string, pointsPerUnit: number];

/**
 * A suite's webhook harness: registers a `beforeAll` that builds the real app over `db()`
 * with secrets made at test time (and `env` on top) and puts `products` in the catalogue.
 * The returned harness is filled in before the suite's first test runs.
 */
export function useWebhookHarness(db: () => Db, products: readonly CatalogueRow[] = [], env: Record<string, string> = {}): WebhookHarness {
  const harness = {} as WebhookHarness;
  beforeAll(async () => {
    Object.assign(harness, await webhookHarness(db(), env));
    for (const [provider, productId, pointsPerUnit] of products) await catalogue(db(), provider, productId, pointsPerUnit);
  });
  return harness;
}
