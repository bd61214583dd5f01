import { jobAuthConfigured, type AuthConfig } from "../auth/authSettings.js";

/**
 * What an environment refuses at start-up, as a list of problems that each say what
 * to fix. Pure: `loadConfig` calls it with the parsed values.
 *
 * prod refuses: a secret given as a plain environment variable instead of a mounted
 * `*_FILE`; no job authentication (OIDC with a job allowlist); a provider configured
 * in test mode. test refuses live provider credentials, so a test process can never
 * move real money-backed points. See docs/decisions/environment-isolation.md.
 */

export type ProviderMode = "live" | "test";

export interface EnvironmentFacts {
  environment: "test" | "prod";
  secretSources: Partial<Record<string, "env" | "file">>;
  databaseUrl?: string;
  auth: AuthConfig;
  paynowConfigured: boolean;
  paynowMode: ProviderMode;
  stripeConfigured: boolean;
  stripeMode: ProviderMode;
  stripeApiKey?: string;
}

/** Stripe marks every API key with its mode; webhook secrets carry no such mark. */
export function stripeKeyMode(key: string): ProviderMode | undefined {
  if (/^(sk|rk|pk)_test_/.test(key)) return "test";
  if (/^(sk|rk|pk)_live_/.test(key)) return "live";
  return undefined;
}

/** A database URL is a secret only when it carries a password. */
function carriesPassword(url: string | undefined): boolean {
  if (!url || !/^postgres(ql)?:\/\//.test(url)) return false;
  try {
    return new URL(url).password !== "";
  } catch {
    return true;
  }
}

function plainEnvSecrets(facts: EnvironmentFacts): string[] {
  return Object.entries(facts.secretSources)
    .filter(([, source]) => source === "env")
    .filter(([name]) => name !== "DATABASE_URL" || carriesPassword(facts.databaseUrl))
    .map(([name]) => `${name} comes from a plain environment variable; in prod mount it as a file and set ${name}_FILE=<path> instead`);
}

function prodProblems(facts: EnvironmentFacts): string[] {
  const problems = plainEnvSecrets(facts);
  if (!jobAuthConfigured(facts.auth)) {
    problems.push(
      "job authentication is not configured: set OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JOB_SUBJECTS or OIDC_JOB_EMAILS " +
        "(the scheduler's service account)",
    );
  }
  if (facts.paynowConfigured && facts.paynowMode === "test") {
    problems.push("PAYNOW_MODE=test in prod: configure the live PayNow store's webhook secrets and set PAYNOW_MODE=live");
  }
  if (facts.stripeConfigured && facts.stripeMode === "test") {
    problems.push("STRIPE_MODE=test in prod: configure the live-mode Stripe endpoint secret and set STRIPE_MODE=live");
  }
  if (facts.stripeApiKey && stripeKeyMode(facts.stripeApiKey) === "test") {
    problems.push("STRIPE_API_KEY is a test-mode key (sk_test_/rk_test_) in prod: use the live-mode key");
  }
  return problems;
}

function testProblems(facts: EnvironmentFacts): string[] {
  const problems: string[] = [];
  if (facts.paynowMode === "live") problems.push("PAYNOW_MODE=live in the test environment: a test process never holds live store secrets");
  if (facts.stripeMode === "live") problems.push("STRIPE_MODE=live in the test environment: a test process never holds live-mode secrets");
  if (facts.stripeApiKey && stripeKeyMode(facts.stripeApiKey) === "live") {
    problems.push("STRIPE_API_KEY is a live-mode key in the test environment: use a sk_test_/rk_test_ key");
  }
  return problems;
}

export function environmentProblems(facts: EnvironmentFacts): string[] {
  switch (facts.environment) {
    case "prod":
      return prodProblems(facts);
    case "test":
      return testProblems(facts);
    default: {
      const never: never = facts.environment;
      throw new Error(`unknown environment ${String(never)}`);
    }
  }
}
