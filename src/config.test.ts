import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";
import { prodEnv } from "../test/support/prodEnv.js";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("defaults to the test environment on an embedded SQLite file named after it", () => {
    const config = loadConfig({});
    expect(config.environment).toBe("test");
    expect(config.database.url).toBe("file:./data/reckon-test.db");
    expect(config.features).toEqual({ reconciliationEnabled: true, backfillEnabled: true });
    expect(config.reconciliation.schedule).toBe("0 2 * * *");
    expect(loadConfig(prodEnv()).database.url).toBe("file:./data/reckon-prod.db");
  });

  it("lists every problem at once, naming each variable", () => {
    const problems = problemsOf({
      ENVIRONMENT: "staging",
      PORT: "http",
      RECONCILIATION_ENABLED: "maybe",
      RECONCILIATION_SCHEDULE: "every night",
      DATABASE_URL: "mysql://x",
    });
    expect(problems).toHaveLength(5);
    for (const name of ["ENVIRONMENT", "PORT", "RECONCILIATION_ENABLED", "RECONCILIATION_SCHEDULE", "DATABASE_URL"]) {
      expect(problems.some((problem) => problem.startsWith(name))).toBe(true);
    }
  });

  it("leaves the chunk size to the engine unless RECONCILE_CHUNK_USERS sets it, and refuses zero", () => {
    expect(loadConfig({}).reconciliation.chunkUsers).toBeNull();
    expect(loadConfig({ RECONCILE_CHUNK_USERS: "5000" }).reconciliation.chunkUsers).toBe(5000);
    expect(problemsOf({ RECONCILE_CHUNK_USERS: "0" })).toHaveLength(1);
  });

  it("reads flags in the usual spellings", () => {
    expect(loadConfig({ RECONCILIATION_ENABLED: "0", BACKFILL_ENABLED: "false" }).features).toEqual({
      reconciliationEnabled: false,
      backfillEnabled: false,
    });
    expect(loadConfig({ RECONCILIATION_ENABLED: "ON" }).features.reconciliationEnabled).toBe(true);
  });

  it("reads a secret from NAME_FILE, as secret managers mount them, and says where it came from", () => {
    const dir = mkdtempSync(join(tmpdir(), "reckon-config-"));
    const secretA = randomBytes(16).toString("hex");
    const secretB = randomBytes(16).toString("hex");
    writeFileSync(join(dir, "paynow"), `${secretA},${secretB}\n`);
    const config = loadConfig({ PAYNOW_WEBHOOK_SECRETS_FILE: join(dir, "paynow"), STRIPE_WEBHOOK_SECRET: "whsec_x" });
    expect(config.providers.paynowWebhookSecrets).toEqual([secretA, secretB]);
    expect(config.secretSources).toEqual({ PAYNOW_WEBHOOK_SECRETS: "file", STRIPE_WEBHOOK_SECRET: "env" });
  });

  it("refuses a secret given twice or a secret file it cannot read", () => {
    const problems = problemsOf({
      STRIPE_WEBHOOK_SECRET: "whsec_a",
      STRIPE_WEBHOOK_SECRET_FILE: "/etc/hostname",
      PAYNOW_WEBHOOK_SECRETS_FILE: "/nonexistent/reckon/secret",
    });
    expect(problems).toEqual([
      "PAYNOW_WEBHOOK_SECRETS_FILE: cannot read /nonexistent/reckon/secret: ENOENT",
      "STRIPE_WEBHOOK_SECRET and STRIPE_WEBHOOK_SECRET_FILE are both set; keep one",
    ]);
  });
});

describe("STRIPE_API_URL", () => {
  it("is Stripe's own API unless given; a local fake's http address is accepted, anything but http(s) is refused", () => {
    expect(loadConfig({}).providerSync.stripeApiUrl).toBe("https://api.stripe.com");
    expect(loadConfig({ STRIPE_API_URL: "http://127.0.0.1:4010" }).providerSync.stripeApiUrl).toBe("http://127.0.0.1:4010");
    for (const bad of ["ftp://127.0.0.1", "api.stripe.com", ""]) {
      expect(problemsOf({ STRIPE_API_URL: bad }).some((problem) => problem.startsWith("STRIPE_API_URL"))).toBe(true);
    }
  });
});
