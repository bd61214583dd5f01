import { readFileSync } from "node:fs";
import { Cron } from "croner";
import { z } from "zod";

/**
 * The one reader of the environment. `loadConfig` validates every variable at once
 * and hands each part its typed slice; a problem list names every bad variable.
 */

/** Secrets that may also be given as `NAME_FILE`, a path to a file holding the value. */
export const SECRET_NAMES = ["PAYNOW_WEBHOOK_SECRETS", "STRIPE_WEBHOOK_SECRET", "DATABASE_URL"] as const;
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
    .regex(/^(file:.+|postgres(ql)?:\/\/.+)$/, "must be file:<path> or postgres://…")
    .optional(),
  DB_POOL_SIZE: wholeNumber(10, 1, 500),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: wholeNumber(3000, 0, 65535),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  RECONCILIATION_ENABLED: flag(true),
  BACKFILL_ENABLED: flag(true),
  RECONCILIATION_SCHEDULE: cronExpression,
  RECONCILE_HEAL: z.enum(["adjust_ledger", "restore_wallet", "report_only"]).default("adjust_ledger"),
  RECONCILE_CHUNK_USERS: wholeNumber(5000, 1, 1_000_000),
  PAYNOW_WEBHOOK_SECRETS: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
});

export type Environment = "test" | "prod";

export interface Config {
  environment: Environment;
  database: { url: string; poolSize: number };
  http: { host: string; port: number };
  logLevel: z.infer<typeof EnvSchema>["LOG_LEVEL"];
  features: { reconciliationEnabled: boolean; backfillEnabled: boolean };
  reconciliation: {
    schedule: string;
    heal: "adjust_ledger" | "restore_wallet" | "report_only";
    /** Users per claimed chunk: bounds memory and each write transaction of the sweep. */
    chunkUsers: number;
  };
  providers: { paynowWebhookSecrets: string[]; stripeWebhookSecret?: string };
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
  return {
    environment: values.ENVIRONMENT,
    database: {
      url: values.DATABASE_URL ?? `file:./data/reckon-${values.ENVIRONMENT}.db`,
      poolSize: values.DB_POOL_SIZE,
    },
    http: { host: values.HOST, port: values.PORT },
    logLevel: values.LOG_LEVEL,
    features: {
      reconciliationEnabled: values.RECONCILIATION_ENABLED,
      backfillEnabled: values.BACKFILL_ENABLED,
    },
    reconciliation: {
      schedule: values.RECONCILIATION_SCHEDULE,
      heal: values.RECONCILE_HEAL,
      chunkUsers: values.RECONCILE_CHUNK_USERS,
    },
    providers: {
      paynowWebhookSecrets,
      ...(values.STRIPE_WEBHOOK_SECRET ? { stripeWebhookSecret: values.STRIPE_WEBHOOK_SECRET } : {}),
    },
    secretSources: sources,
  };
}
