import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../config.js";
import { createTestDatabase, ENGINES } from "../../test/support/testDatabase.js";
import { EnvironmentMismatchError, prepareDatabase } from "./prepareDatabase.js";
import { reckonArgs } from "../../test/support/reckonCommand.js";

const dir = mkdtempSync(join(tmpdir(), "reckon-secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Mounts a secret the way Kubernetes or Secret Manager does: one file per secret. */
function mountSecret(name: string, value: string): string {
  const path = join(dir, name);
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return path;
}

const secret = () => randomBytes(24).toString("base64url");

/** A prod configuration that starts: secrets from files, OIDC job auth, live providers. */
function prodEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    ENVIRONMENT: "prod",
    DATABASE_URL: "file:/var/lib/reckon/reckon-prod.db",
    PAYNOW_WEBHOOK_SECRETS_FILE: mountSecret("paynow", `${secret()},${secret()}`),
    STRIPE_WEBHOOK_SECRET_FILE: mountSecret("stripe", `whsec_${secret()}`),
    OIDC_ISSUER: "https://accounts.google.com",
    OIDC_AUDIENCE: "https://reckon.example.com/api/jobs",
    OIDC_JOB_EMAILS: "scheduler@project.iam.gserviceaccount.com",
    ...extra,
  };
}

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("a prod process refuses to start when", () => {
  it("(baseline) starts with secrets from files, OIDC job auth and live providers", () => {
    const config = loadConfig(prodEnv());
    expect(config.environment).toBe("prod");
    expect(config.secretSources).toEqual({ PAYNOW_WEBHOOK_SECRETS: "file", STRIPE_WEBHOOK_SECRET: "file", DATABASE_URL: "env" });
    expect(config.providerModes).toEqual({ paynow: "live", stripe: "live" });
  });

  it("a secret comes from a plain environment variable, and the message says to use *_FILE", () => {
    const value = secret();
    const problems = problemsOf(prodEnv({ STRIPE_WEBHOOK_SECRET_FILE: undefined, STRIPE_WEBHOOK_SECRET: `whsec_${value}` }));
    expect(problems).toEqual([
      "STRIPE_WEBHOOK_SECRET comes from a plain environment variable; in prod mount it as a file and set STRIPE_WEBHOOK_SECRET_FILE=<path> instead",
    ]);
    expect(problems.join("\n")).not.toContain(value);
  });

  it("a database URL with a password comes from a plain environment variable", () => {
    const password = secret();
    const problems = problemsOf(prodEnv({ DATABASE_URL: `postgres://reckon:${password}@db.internal:5432/reckon` }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("DATABASE_URL_FILE=<path>");
    expect(problems[0]).not.toContain(password);
  });

  it("a database URL carries its password in ?password= in a plain environment variable", () => {
    const password = secret();
    const problems = problemsOf(prodEnv({ DATABASE_URL: `postgres://reckon@db.internal:5432/reckon?password=${password}` }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("DATABASE_PASSWORD_FILE=<path>");
    expect(problems.join("\n")).not.toContain(password);
  });

  it("PGPASSWORD is set, which pg would read behind the configuration's back", () => {
    const password = secret();
    const problems = problemsOf(prodEnv({ DATABASE_URL: "postgres://reckon@db.internal:5432/reckon", PGPASSWORD: password }));
    expect(problems).toEqual([
      "PGPASSWORD is set; in prod the database password comes only from DATABASE_PASSWORD_FILE (or a URL mounted as DATABASE_URL_FILE)",
    ]);
  });

  it("the database password comes from a plain DATABASE_PASSWORD", () => {
    const problems = problemsOf(prodEnv({ DATABASE_URL: "postgres://reckon@db.internal:5432/reckon", DATABASE_PASSWORD: secret() }));
    expect(problems).toEqual([
      "DATABASE_PASSWORD comes from a plain environment variable; in prod mount it as a file and set DATABASE_PASSWORD_FILE=<path> instead",
    ]);
  });

  it("job authentication is not configured", () => {
    const problems = problemsOf(prodEnv({ OIDC_ISSUER: undefined, OIDC_AUDIENCE: undefined, OIDC_JOB_EMAILS: undefined }));
    expect(problems).toEqual([
      "job authentication is not configured: set OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JOB_SUBJECTS or OIDC_JOB_EMAILS (the scheduler's service account)",
    ]);
  });

  it("OIDC is configured for admins but no job caller is listed", () => {
    const problems = problemsOf(prodEnv({ OIDC_JOB_EMAILS: undefined, OIDC_ADMIN_EMAILS: "ops@example.com" }));
    expect(problems.some((problem) => problem.startsWith("job authentication is not configured"))).toBe(true);
  });

  it("a provider is configured in test mode", () => {
    expect(problemsOf(prodEnv({ PAYNOW_MODE: "test" }))).toEqual([
      "PAYNOW_MODE=test in prod: configure the live PayNow store's webhook secrets and set PAYNOW_MODE=live",
    ]);
    expect(problemsOf(prodEnv({ STRIPE_MODE: "test" }))).toEqual([
      "STRIPE_MODE=test in prod: configure the live-mode Stripe endpoint secret and set STRIPE_MODE=live",
    ]);
    const testKey = `sk_test_${secret()}`;
    const problems = problemsOf(prodEnv({ STRIPE_API_KEY_FILE: mountSecret("stripe-key", testKey) }));
    expect(problems).toEqual(["STRIPE_API_KEY is a test-mode key (sk_test_/rk_test_) in prod: use the live-mode key"]);
    expect(problems.join("\n")).not.toContain(testKey);
  });

  it("a PayNow API key for a test store, in a plain variable, or without its store (docs/decisions/paynow-api-key-mode.md)", () => {
    const key = secret();
    const apiOnly = { PAYNOW_WEBHOOK_SECRETS_FILE: undefined, PAYNOW_STORE_ID: "321641745957789696" };
    expect(problemsOf(prodEnv({ ...apiOnly, PAYNOW_API_KEY_FILE: mountSecret("paynow-api", key) }))).toEqual([]);
    expect(problemsOf(prodEnv({ ...apiOnly, PAYNOW_API_KEY_FILE: mountSecret("paynow-api", key), PAYNOW_MODE: "test" }))).toEqual([
      "PAYNOW_MODE=test in prod: configure the live PayNow store's webhook secrets and set PAYNOW_MODE=live",
    ]);
    expect(problemsOf(prodEnv({ ...apiOnly, PAYNOW_API_KEY: key }))).toEqual([
      "PAYNOW_API_KEY comes from a plain environment variable; in prod mount it as a file and set PAYNOW_API_KEY_FILE=<path> instead",
    ]);
    const unpaired = problemsOf(prodEnv({ PAYNOW_API_KEY_FILE: mountSecret("paynow-api", key) }));
    expect(unpaired).toEqual(["PAYNOW_API_KEY and PAYNOW_STORE_ID go together: provider sync reads one store's records"]);
    expect(unpaired.join("\n")).not.toContain(key);
  });

  it("lists every problem at once", () => {
    const problems = problemsOf(
      prodEnv({ OIDC_ISSUER: undefined, OIDC_AUDIENCE: undefined, OIDC_JOB_EMAILS: undefined, PAYNOW_MODE: "test", PAYNOW_WEBHOOK_SECRETS_FILE: undefined, PAYNOW_WEBHOOK_SECRETS: secret() }),
    );
    expect(problems).toHaveLength(3);
  });

  it("OIDC asks for a symmetric algorithm or none", () => {
    expect(problemsOf(prodEnv({ OIDC_ALGORITHMS: "RS256,HS256,none" }))[0]).toMatch(/^OIDC_ALGORITHMS: HS256, none not allowed/);
  });

  it("the issuer is not https", () => {
    expect(problemsOf(prodEnv({ OIDC_ISSUER: "http://issuer.example.com" }))).toEqual([
      "OIDC_ISSUER: must be an https:// URL (http:// only on loopback)",
    ]);
  });
});

describe("the database password", () => {
  it("(baseline) comes from DATABASE_PASSWORD_FILE beside a password-less URL, in prod", () => {
    const password = `${secret()}@:/%40`;
    const config = loadConfig(prodEnv({ DATABASE_URL: "postgres://reckon@db.internal:5432/reckon", DATABASE_PASSWORD_FILE: mountSecret("db-password", password) }));
    expect(config.database).toEqual({ url: "postgres://reckon@db.internal:5432/reckon", password, poolSize: 10, writerThread: true });
  });

  it("(baseline) may sit inside a URL mounted as DATABASE_URL_FILE, in prod", () => {
    const url = `postgres://reckon:${secret()}@db.internal:5432/reckon`;
    expect(loadConfig(prodEnv({ DATABASE_URL: undefined, DATABASE_URL_FILE: mountSecret("db-url", url) })).database.url).toBe(url);
  });

  it("is refused when given twice, in the URL and in DATABASE_PASSWORD, in any environment", () => {
    const inUrl = secret();
    const problems = problemsOf({ DATABASE_URL: `postgres://reckon:${inUrl}@db.internal/reckon`, DATABASE_PASSWORD: secret() });
    expect(problems).toEqual(["the database password is given twice (inside DATABASE_URL and as DATABASE_PASSWORD); keep one"]);
    expect(problems.join("\n")).not.toContain(inUrl);
  });

  it("is refused for a SQLite database, which has none", () => {
    expect(problemsOf({ DATABASE_URL: "file:./data/x.db", DATABASE_PASSWORD: secret() })).toEqual([
      "DATABASE_PASSWORD is set but DATABASE_URL is not a postgres:// URL",
    ]);
  });

  it("in a URL pg cannot read is refused without echoing the URL", () => {
    const password = secret();
    const problems = problemsOf({ DATABASE_URL: `postgres://reckon:${password}/x@db.internal/reckon` });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DATABASE_URL: not a PostgreSQL connection URL pg can read/);
    expect(problems[0]).not.toContain(password);
  });
});

describe("a test process", () => {
  it("accepts plain environment secrets and no job auth", () => {
    expect(problemsOf({ ENVIRONMENT: "test", STRIPE_WEBHOOK_SECRET: `whsec_${secret()}` })).toEqual([]);
  });

  it("refuses live provider credentials", () => {
    expect(problemsOf({ ENVIRONMENT: "test", PAYNOW_MODE: "live" })).toHaveLength(1);
    expect(problemsOf({ ENVIRONMENT: "test", STRIPE_API_KEY: `sk_live_${secret()}` })).toEqual([
      "STRIPE_API_KEY is a live-mode key in the test environment: use a sk_test_/rk_test_ key",
    ]);
  });
});

describe("a prod process refuses a test-stamped database", () => {
  for (const engine of ENGINES) {
    it(`[${engine}] with a message naming both environments, changing nothing`, async () => {
      const database = await createTestDatabase(engine, { migrateAs: "test" });
      try {
        const env = prodEnv({ DATABASE_URL: undefined, DATABASE_URL_FILE: mountSecret(`db-${engine}`, database.url) });
        const config = loadConfig(env);
        const refusal = await prepareDatabase(config).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(refusal).toBeInstanceOf(EnvironmentMismatchError);
        expect((refusal as Error).message).toMatch(/belongs to the test environment but ENVIRONMENT=prod\. Point DATABASE_URL at the prod database/);
        const stamp = await database.db.kysely.selectFrom("reckon_meta").select("value").where("key", "=", "environment").executeTakeFirst();
        expect(stamp?.value).toBe("test");
      } finally {
        await database.drop();
      }
    });
  }
});

describe("the reckon process itself", () => {
  /** Runs `reckon serve` as a real process; it must exit 1 before listening. */
  async function serveProd(env: Record<string, string | undefined>): Promise<{ code: number | undefined; stderr: string }> {
    const cleanEnv = Object.fromEntries(Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, PORT: "0", ...env }).filter(([, value]) => value !== undefined)) as Record<string, string>;
    return promisify(execFile)(process.execPath, reckonArgs(["serve"]), { env: cleanEnv, timeout: 30_000 }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? "" }),
    );
  }

  it("exits 1 on plain-env secrets and missing job auth, saying what to fix", async () => {
    const value = secret();
    const outcome = await serveProd({ ENVIRONMENT: "prod", DATABASE_URL: `file:${join(dir, "never.db")}`, STRIPE_WEBHOOK_SECRET: `whsec_${value}` });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain("Reckon cannot start; fix the configuration:");
    expect(outcome.stderr).toContain("set STRIPE_WEBHOOK_SECRET_FILE=<path> instead");
    expect(outcome.stderr).toContain("job authentication is not configured");
    expect(outcome.stderr).not.toContain(value);
  });

  it("exits 1 against a test-stamped database", async () => {
    const database = await createTestDatabase("sqlite", { migrateAs: "test" });
    try {
      const outcome = await serveProd(prodEnv({ DATABASE_URL: database.url }));
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain("belongs to the test environment but ENVIRONMENT=prod");
    } finally {
      await database.drop();
    }
  });
});
