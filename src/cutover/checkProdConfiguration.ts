import { jobAuthConfigured } from "../auth/authSettings.js";
import type { Config } from "../config.js";
import { failed, passed, type CutoverCheck } from "./CutoverCheck.js";

/**
 * Pure: what a prod process needs to take live traffic, beyond what `loadConfig` already
 * refuses at start-up (secrets as plain variables, a test-mode Stripe key): job callers
 * authenticated, and a secret for each provider, or the provider's deliveries are refused.
 */
export function checkProdConfiguration(config: Config): CutoverCheck {
  const name = "prod_configuration";
  if (config.environment !== "prod") {
    return failed(name, "not_prod", `ENVIRONMENT is ${config.environment}: run preflight with the prod environment's configuration`);
  }
  const problems: string[] = [];
  if (!jobAuthConfigured(config.auth)) problems.push("job authentication (OIDC_ISSUER, OIDC_AUDIENCE, OIDC_JOB_SUBJECTS or OIDC_JOB_EMAILS) is not configured");
  if (config.providers.paynowWebhookSecrets.length === 0) problems.push("PAYNOW_WEBHOOK_SECRETS_FILE is not configured: PayNow deliveries would be refused");
  if (!config.providers.stripeWebhookSecret) problems.push("STRIPE_WEBHOOK_SECRET_FILE is not configured: Stripe deliveries would be refused");
  if (problems.length > 0) return failed(name, "prod_not_configured", problems.join("; "));
  return passed(name, "job authentication and both providers' secrets are configured");
}
