import { readFileSync } from "node:fs";
import { Cron } from "croner";
import { z } from "zod";
import { AuthEnvFields, buildAuthConfig, type AuthConfig } from "./auth/authSettings.js";
import type { ReportSettings } from "./reconcile/publishChainHead.js";
import { loadReportKeys } from "./reconcile/reportSigning.js";
import { environmentProblems, type ProviderMode } from "./runtime/environmentProblems.js";
import { readDatabaseUrl } from "./storage/readDatabaseUrl.js";

/**
 * The one reader of the environment. `loadConfig` validates every variable at once
 * and hands each part its typed slice; a problem list names every bad variable.
 */

/** Secrets that may also be given as `NAME_FILE`, a path to a file holding the value. */
export const SECRET_NAMES = ["PAYNOW_WEBHOOK_SECRETS", "STRIPE_WEBHOOK_SECRET", "DATABASE_URL", "DATABASE_PASSWORD", "STRIPE_API_KEY", "PAYNOW_API_KEY"] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

const flag = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return fallback;
      const normal = value.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(normal)) return true;
      if (["0", "false", "no", "off"].includes(normal)) return false;
      ctx.addIssue({ code: "custom", message: `expected 1/0/true/false, got ${JSON.stringify(value)}` });
      return z.NEVER;
    });

const wholeNumber = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return fallback;
      if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
        ctx.addIssue({ code: "custom", message: `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}` });
        return z.NEVER;
      }
      return Number(value);
    });

const cronExpression = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const expression = value === undefined || value === "" ? "0 2 * * *" : value;
    try {
      new Cron(expression, { paused: true, timezone: "UTC" }).stop();
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `not a cron expression: ${(error as Error).message}` });
      return z.NEVER;
    }
    return expression;
  });

const EnvSchema = z.object({
  ENVIRONMENT: z.enum(["test", "prod"]).default("test"),
  DATABASE_URL: z
    .string()
    .superRefine((url, ctx) => {
      const read = readDatabaseUrl(url);
      // The message never quotes the URL: it may hold a password.
      if (read.engine === "unreadable") ctx.addIssue({ code: "custom", message: read.problem });
    })
    .optional(),
  /** The PostgreSQL password, apart from the URL (in prod: DATABASE_PASSWORD_FILE). */
  DATABASE_PASSWORD: z.string().optional(),
  /** Read only to refuse it in prod: pg would take it silently when the URL has no password. */
  PGPASSWORD: z.string().optional(),
  DB_POOL_SIZE: wholeNumber(10, 1, 500),
  /** SQLite: store and apply webhooks on a writer thread (docs/decisions/sqlite-writer-thread.md). */
  SQLITE_WRITER_THREAD: flag(true),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: wholeNumber(3000, 0, 65535),
  /** Proxy hops in front of Reckon whose X-Forwarded-For is trusted (0: use the socket address). */
  TRUST_PROXY_HOPS: wholeNumber(0, 0, 10),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  RECONCILIATION_ENABLED: flag(true),
  BACKFILL_ENABLED: flag(true),
  RECONCILIATION_SCHEDULE: cronExpression,
  RECONCILE_HEAL: z.enum(["adjust_ledger", "restore_wallet", "report_only"]).default("adjust_ledger"),
  /** Unset: the engine's own default (`EngineAdapter.sweepChunkUsers`). */
  RECONCILE_CHUNK_USERS: wholeNumber(0, 1, 1_000_000),
  /** 0 (off) or days: the scheduler prunes archived runs older than this (docs/decisions/report-archive-and-prune.md). */
  RECONCILE_REPORT_RETENTION_DAYS: wholeNumber(0, 0, 36_500),
  /** Ed25519 private key (PEM) that signs each completed run's chain head. */
  REPORT_SIGNING_KEY_FILE: z.string().optional(),
  /** Ed25519 public key (PEM) for verifying where the private key is not held. */
  REPORT_VERIFY_KEY_FILE: z.string().optional(),
  /** Append-only file of `{position, date, checksum, signature}` lines, one per completed run. */
  REPORT_ANCHOR_FILE: z.string().optional(),
  PAYNOW_WEBHOOK_SECRETS: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  REVERSAL_POLICY: z.enum(["allow_negative", "clamp"]).default("allow_negative"),
  BACKFILL_MAX_RANGE_DAYS: wholeNumber(93, 1, 3660),
  BACKFILL_MAX_EVENTS: wholeNumber(1_000_000, 1, 100_000_000),
  BACKFILL_BATCH_SIZE: wholeNumber(500, 1, 10_000),
  STRIPE_API_KEY: z.string().optional(),
  /** PayNow Management API key and store, read by provider sync (docs/decisions/paynow-api-key-mode.md). */
  PAYNOW_API_KEY: z.string().optional(),
  PAYNOW_STORE_ID: z
    .string()
    .regex(/^\d{1,20}$/, "must be the store's numeric id")
    .optional(),
  PAYNOW_API_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).default("https://api.paynow.gg"),
  /** Stripe's API address for provider sync; only a local fake (tests, the demo) needs another. */
  STRIPE_API_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).default("https://api.stripe.com"),
  /** The daily reconciliation first syncs the previous day with each provider that has an API key. */
  PROVIDER_SYNC_SCHEDULED: flag(true),
  /** Per-request timeout of provider API calls. */
  PROVIDER_SYNC_TIMEOUT_MS: wholeNumber(10_000, 100, 120_000),
  /** Attempts per provider API request (429, 5xx and timeouts are retried with backoff). */
  PROVIDER_SYNC_ATTEMPTS: wholeNumber(5, 1, 10),
  /** Which PayNow store / Stripe mode the secrets belong to; defaults to the environment's own. */
  PAYNOW_MODE: z.enum(["live", "test"]).optional(),
  STRIPE_MODE: z.enum(["live", "test"]).optional(),
  ...AuthEnvFields,
});

export type Environment = "test" | "prod";
export type ReversalPolicy = "allow_negative" | "clamp";

export interface Config {
  environment: Environment;
  /** `password` is set only from DATABASE_PASSWORD(_FILE); a password inside `url` stays there. */
  database: { url: string; password?: string; poolSize: number; writerThread: boolean };
  http: { host: string; port: number; trustProxyHops: number };
  logLevel: z.infer<typeof EnvSchema>["LOG_LEVEL"];
  features: { reconciliationEnabled: boolean; backfillEnabled: boolean };
  reconciliation: {
    schedule: string;
    heal: "adjust_ledger" | "restore_wallet" | "report_only";
    /** Users per claimed chunk: bounds memory and each write transaction of the sweep; null: the engine's default. */
    chunkUsers: number | null;
    /** Runs older than this many days are pruned by the scheduler once an archive holds them; null: never. */
    reportRetentionDays: number | null;
  };
  /** Signing, verifying and anchoring of the report chain (docs/decisions/report-chain-signing.md). */
  reports: ReportSettings;
  providers: { paynowWebhookSecrets: string[]; stripeWebhookSecret?: string };
  /**
   * What a refund or chargeback does to points already spent: `allow_negative` lets
   * the wallet go below zero (the wallet is flagged); `clamp` reverses only what the
   * wallet holds and records the shortfall (docs/decisions/reversal-policy.md).
   */
  webhooks: { reversalPolicy: ReversalPolicy };
  /** Bounds of one backfill run: its date range, its events, and events per transaction. */
  backfill: { maxRangeDays: number; maxEvents: number; batchSize: number };
  /** The provider modes this process accepts (prod: live, test: test). */
  providerModes: { paynow: ProviderMode; stripe: ProviderMode };
  /** Reading the providers' own records (issue 15); a provider without an API key is not synced. */
  providerSync: {
    paynow: { apiKey: string; storeId: string; apiUrl: string } | null;
    stripeApiKey: string | null;
    stripeApiUrl: string;
    scheduled: boolean;
    requestTimeoutMs: number;
    attempts: number;
  };
  auth: AuthConfig;
  /** Where each configured secret came from; prod accepts only files. */
  secretSources: Partial<Record<SecretName, "env" | "file">>;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Reckon cannot start; fix the configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type EnvInput = Record<string, string | undefined>;

/** Replaces each `NAME_FILE` by the file's content, recording where every secret came from. */
function resolveSecretFiles(env: EnvInput, problems: string[]) {
  const resolved: EnvInput = { ...env };
  const sources: Config["secretSources"] = {};
  for (const name of SECRET_NAMES) {
    const path = env[`${name}_FILE`];
    if (path !== undefined && path !== "") {
      if (env[name] !== undefined && env[name] !== "") {
        problems.push(`${name} and ${name}_FILE are both set; keep one`);
        continue;
      }
      try {
        resolved[name] = readFileSync(path, "utf8").replace(/\r?\n$/, "");
        sources[name] = "file";
      } catch (error) {
        problems.push(`${name}_FILE: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
      }
    } else if (env[name] !== undefined && env[name] !== "") {
      sources[name] = "env";
    }
  }
  return { resolved, sources };
}

export function loadConfig(env: EnvInput): Config {
  const problems: string[] = [];
  const { resolved, sources } = resolveSecretFiles(env, problems);
  const parsed = EnvSchema.safeParse(resolved);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join(".")}: ${issue.message}`);
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const values = parsed.data;
  const paynowWebhookSecrets = (values.PAYNOW_WEBHOOK_SECRETS ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .filter((secret) => secret !== "");
  const auth = buildAuthConfig(values, problems);
  const reportKeys = loadReportKeys({ signingKeyFile: values.REPORT_SIGNING_KEY_FILE, verifyKeyFile: values.REPORT_VERIFY_KEY_FILE });
  problems.push(...reportKeys.problems);
  const naturalMode: ProviderMode = values.ENVIRONMENT === "prod" ? "live" : "test";
  const providerModes = { paynow: values.PAYNOW_MODE ?? naturalMode, stripe: values.STRIPE_MODE ?? naturalMode };
  problems.push(
    ...environmentProblems({
      environment: values.ENVIRONMENT,
      secretSources: sources,
      ...(values.DATABASE_URL ? { databaseUrl: values.DATABASE_URL } : {}),
      databasePasswordGiven: Boolean(values.DATABASE_PASSWORD),
      pgPasswordSet: Boolean(values.PGPASSWORD),
      auth,
      paynowConfigured: paynowWebhookSecrets.length > 0 || Boolean(values.PAYNOW_API_KEY),
      paynowMode: providerModes.paynow,
      stripeConfigured: Boolean(values.STRIPE_WEBHOOK_SECRET || values.STRIPE_API_KEY),
      stripeMode: providerModes.stripe,
      ...(values.STRIPE_API_KEY ? { stripeApiKey: values.STRIPE_API_KEY } : {}),
    }),
  );
  if (Boolean(values.PAYNOW_API_KEY) !== Boolean(values.PAYNOW_STORE_ID)) {
    problems.push("PAYNOW_API_KEY and PAYNOW_STORE_ID go together: provider sync reads one store's records");
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    environment: values.ENVIRONMENT,
    database: {
      url: values.DATABASE_URL ?? `file:./data/reckon-${values.ENVIRONMENT}.db`,
      ...(values.DATABASE_PASSWORD ? { password: values.DATABASE_PASSWORD } : {}),
      poolSize: values.DB_POOL_SIZE,
      writerThread: values.SQLITE_WRITER_THREAD,
    },
    http: { host: values.HOST, port: values.PORT, trustProxyHops: values.TRUST_PROXY_HOPS },
    logLevel: values.LOG_LEVEL,
    features: {
      reconciliationEnabled: values.RECONCILIATION_ENABLED,
      backfillEnabled: values.BACKFILL_ENABLED,
    },
    reconciliation: {
      schedule: values.RECONCILIATION_SCHEDULE,
      heal: values.RECONCILE_HEAL,
      chunkUsers: values.RECONCILE_CHUNK_USERS === 0 ? null : values.RECONCILE_CHUNK_USERS,
      reportRetentionDays: values.RECONCILE_REPORT_RETENTION_DAYS === 0 ? null : values.RECONCILE_REPORT_RETENTION_DAYS,
    },
    reports: { keys: reportKeys.keys, anchorFile: values.REPORT_ANCHOR_FILE || null },
    providers: {
      paynowWebhookSecrets,
      ...(values.STRIPE_WEBHOOK_SECRET ? { stripeWebhookSecret: values.STRIPE_WEBHOOK_SECRET } : {}),
    },
    webhooks: { reversalPolicy: values.REVERSAL_POLICY },
    backfill: {
      maxRangeDays: values.BACKFILL_MAX_RANGE_DAYS,
      maxEvents: values.BACKFILL_MAX_EVENTS,
      batchSize: values.BACKFILL_BATCH_SIZE,
    },
    secretSources: sources,
    providerModes,
    providerSync: {
      paynow:
        values.PAYNOW_API_KEY && values.PAYNOW_STORE_ID
          ? { apiKey: values.PAYNOW_API_KEY, storeId: values.PAYNOW_STORE_ID, apiUrl: values.PAYNOW_API_URL.replace(/\/+$/, "") }
          : null,
      stripeApiKey: values.STRIPE_API_KEY ?? null,
      stripeApiUrl: values.STRIPE_API_URL,
      scheduled: values.PROVIDER_SYNC_SCHEDULED,
      requestTimeoutMs: values.PROVIDER_SYNC_TIMEOUT_MS,
      attempts: values.PROVIDER_SYNC_ATTEMPTS,
    },
    auth,
  };
}
