import { jobAuthConfigured, type AuthConfig } from "../auth/authSettings.js";
import { readDatabaseUrl } from "../storage/readDatabaseUrl.js";
import { unreachable } from "../unreachable.js";

/**
 * What an environment refuses at start-up, as a list of problems that each say what
 * to fix. Pure: `loadConfig` calls it with the parsed values.
 *
 * prod refuses: a secret given as a plain environment variable instead of a mounted
 * `*_FILE` (a database password inline in a plain DATABASE_URL, or PGPASSWORD, counts);
 * no job authentication (OIDC with a job allowlist); a provider configured in test
 * mode. test refuses live provider credentials, so a test process can never move real
 * money-backed points. Both refuse a database password given twice. See
 * docs/decisions/environment-isolation.md and docs/decisions/database-password.md.
 */

export type ProviderMode = "live" | "test";

export interface EnvironmentFacts {
  environment: "test" | "prod";
  secretSources: Partial<Record<string, "env" | "file">>;
  databaseUrl?: string;
  /** DATABASE_PASSWORD (or its file) is set. */
  databasePasswordGiven: boolean;
  /** PGPASSWORD is in the environment, where pg would read it without asking. */
  pgPasswordSet: boolean;
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

/**
 * A database URL is a secret only when it carries a password, in `user:password@` or
 * `?password=`, as pg reads it; an unreadable one counts as carrying one.
 */
function carriesPassword(url: string | undefined): boolean {
  if (!url) return false;
  const read = readDatabaseUrl(url);
  return read.engine === "unreadable" || (read.engine === "postgres" && read.inlinePassword);
}

function plainEnvSecrets(facts: EnvironmentFacts): string[] {
  return Object.entries(facts.secretSources)
    .filter(([, source]) => source === "env")
    .filter(([name]) => name !== "DATABASE_URL" || carriesPassword(facts.databaseUrl))
    .map(([name]) =>
      name === "DATABASE_URL"
        ? "DATABASE_URL carries a password (user:password@ or ?password=) in a plain environment variable; in prod " +
          "remove it and set DATABASE_PASSWORD_FILE=<path>, or mount the whole URL and set DATABASE_URL_FILE=<path> instead"
        : `${name} comes from a plain environment variable; in prod mount it as a file and set ${name}_FILE=<path> instead`,
    );
}

/** Problems of the database password in either environment: it is given once, to PostgreSQL. */
function databasePasswordProblems(facts: EnvironmentFacts): string[] {
  if (!facts.databasePasswordGiven) return [];
  const read = facts.databaseUrl === undefined ? undefined : readDatabaseUrl(facts.databaseUrl);
  if (read?.engine !== "postgres") return ["DATABASE_PASSWORD is set but DATABASE_URL is not a postgres:// URL"];
  if (read.inlinePassword) return ["the database password is given twice (inside DATABASE_URL and as DATABASE_PASSWORD); keep one"];
  return [];
}

function prodProblems(facts: EnvironmentFacts): string[] {
  const problems = plainEnvSecrets(facts);
  if (facts.pgPasswordSet) {
    problems.push("PGPASSWORD is set; in prod the database password comes only from DATABASE_PASSWORD_FILE (or a URL mounted as DATABASE_URL_FILE)");
  }
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
  const shared = databasePasswordProblems(facts);
  switch (facts.environment) {
    case "prod":
      return [...shared, ...prodProblems(facts)];
    case "test":
      return [...shared, ...testProblems(facts)];
  }
  return unreachable(facts.environment, "environment");
}
