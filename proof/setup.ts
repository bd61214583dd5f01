import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { PRODUCTS } from "./catalogue.js";
import { runReckon } from "./reckonCli.js";
import type { WebhookSecrets } from "./sign.js";

export interface Setup {
  dir: string;
  /** The database's name (PostgreSQL) or file name (SQLite). */
  databaseName: string;
  env: Record<string, string>;
  secrets: WebhookSecrets;
  tokens: { service: string; admin: string };
  cleanup(): Promise<void>;
}

const ADMIN_URL = process.env.PROOF_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A database for the run: a SQLite file, or a fresh PostgreSQL database on the given server. */
export async function createRunDatabase(
  engine: "sqlite" | "postgres",
  dir: string,
  server = ADMIN_URL,
  /** The URL Reckon is given for the new database (a multi-host URL in the failover variant). */
  urlFor?: (name: string) => string,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  if (engine === "sqlite") return { url: `file:${join(dir, "reckon.db")}`, name: "reckon.db", drop: async () => undefined };
  const name = `reckon_proof_${process.pid}_${randomBytes(4).toString("hex")}`;
  await adminQuery(server, `create database ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: urlFor ? urlFor(name) : url.toString(), name, drop: () => adminQuery(server, `drop database if exists ${name} with (force)`).catch(() => undefined) };
}

async function reckon(args: string[], env: Record<string, string>): Promise<string> {
  const result = await runReckon(args, env);
  if (result.code !== 0) throw new Error(`reckon ${args.join(" ")} failed (${result.code}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/**
 * Everything a run needs, made at run time: webhook secrets, a report signing key and
 * anchor file, the migrated database, the catalogue and two API tokens, all through
 * the real `reckon` command. Nothing secret is in the repository.
 */
export async function prepareRun(databaseUrl: (dir: string) => Promise<{ url: string; name: string; drop(): Promise<void> }>): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), "reckon-proof-"));
  const database = await databaseUrl(dir);
  const { privateKey } = generateKeyPairSync("ed25519");
  const keyFile = join(dir, "report-signing.pem");
  writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  const secrets: WebhookSecrets = {
    paynow: [randomBytes(24).toString("hex"), randomBytes(24).toString("hex")],
    stripe: `whsec_${randomBytes(24).toString("base64url")}`,
  };
  const env = {
    ENVIRONMENT: "test",
    DATABASE_URL: database.url,
    DB_POOL_SIZE: "6",
    LOG_LEVEL: "warn",
    PAYNOW_WEBHOOK_SECRETS: secrets.paynow.join(","),
    STRIPE_WEBHOOK_SECRET: secrets.stripe,
    RECONCILIATION_ENABLED: "1",
    // Small chunks, so several instances share one run's chunks.
    RECONCILE_CHUNK_USERS: "40",
    REPORT_SIGNING_KEY_FILE: keyFile,
    REPORT_ANCHOR_FILE: join(dir, "report-anchor.jsonl"),
  };
  await reckon(["migrate"], env);
  for (const product of PRODUCTS) await reckon(["products", "set", product.provider, product.productId, String(product.pointsPerUnit)], env);
  const token = async (role: string) => (JSON.parse(await reckon(["admin", "token", "create", "--role", role, "--name", `proof-${role}`], env)) as { token: string }).token;
  const tokens = { service: await token("service"), admin: await token("admin") };
  return {
    dir,
    databaseName: database.name,
    env,
    secrets,
    tokens,
    async cleanup() {
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
