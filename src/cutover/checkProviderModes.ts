import type { Config } from "../config.js";
import type { ProviderMode } from "../runtime/environmentProblems.js";
import { failed, passed, type CutoverCheck } from "./CutoverCheck.js";

export interface StoredModes {
  /** Stored Stripe deliveries whose `livemode` is not the environment's. */
  stripeDeliveriesOfOtherMode: number;
}

/**
 * Pure: the provider modes as far as Reckon can tell without calling a provider
 * (docs/decisions/cutover-checks.md): the configured PAYNOW_MODE and STRIPE_MODE, and the
 * `livemode` of every stored Stripe delivery. A Stripe API key of the other mode never gets
 * this far: `loadConfig` refuses it. PayNow deliveries carry no mode, so its store is known
 * only from configuration.
 */
export function checkProviderModes(config: Config, stored: StoredModes): CutoverCheck {
  const name = "provider_modes";
  const expected: ProviderMode = config.environment === "prod" ? "live" : "test";
  const problems: string[] = [];
  if (config.providerModes.paynow !== expected) problems.push(`PAYNOW_MODE is ${config.providerModes.paynow}, the ${config.environment} environment needs ${expected}`);
  if (config.providerModes.stripe !== expected) problems.push(`STRIPE_MODE is ${config.providerModes.stripe}, the ${config.environment} environment needs ${expected}`);
  if (stored.stripeDeliveriesOfOtherMode > 0) {
    problems.push(`${stored.stripeDeliveriesOfOtherMode} stored Stripe deliveries are not ${expected}-mode`);
  }
  if (problems.length > 0) return failed(name, "provider_mode_mismatch", problems.join("; "));
  return passed(name, `PayNow and Stripe are configured ${expected}, no stored Stripe delivery of the other mode`);
}
