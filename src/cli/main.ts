#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from "commander";
import { createApiToken } from "../auth/apiTokens.js";
import { ConfigError, loadConfig, type Config } from "../config.js";
import { isEmpty, seedDemo } from "../demo/seedDemo.js";
import { TOKEN_ROLES, type TokenRole } from "../storage/schema.js";
import { prepareDatabase } from "../runtime/prepareDatabase.js";
import { serve } from "../runtime/serve.js";
import { registerReconcileCommands } from "./reconcileCommands.js";

/**
 * The `reckon` command. Every command only parses its options and calls the same
 * functions the HTTP routes call; no logic lives here.
 */

function config(): Config {
  return loadConfig(process.env);
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000) {
    throw new InvalidArgumentError("expected a whole number from 1 to 100000");
  }
  return Number(value);
}

async function demoTokens(cfg: Config): Promise<{ admin: string; service: string }> {
  const db = await prepareDatabase(cfg);
  try {
    const now = new Date();
    const admin = await createApiToken(db.kysely, { role: "admin", name: `demo-admin-${now.getTime()}`, now });
    const service = await createApiToken(db.kysely, { role: "service", name: `demo-service-${now.getTime()}`, now });
    return { admin: admin.token, service: service.token };
  } finally {
    await db.close();
  }
}

async function seedIfEmpty(cfg: Config, users: number): Promise<void> {
  const db = await prepareDatabase(cfg);
  try {
    if (!(await isEmpty(db))) {
      console.log(`demo: ${db.displayUrl} already holds data; not seeding`);
      return;
    }
    const summary = await seedDemo(db, { users, now: new Date() });
    console.log(
      `demo: seeded ${summary.users} users, ${summary.purchases} purchases, ${summary.spends} spends, ` +
        `${summary.refunds} refund into ${db.displayUrl}`,
    );
  } finally {
    await db.close();
  }
}

const program = new Command("reckon")
  .description("Point wallets kept provably equal to their ledger")
  .showHelpAfterError();

program
  .command("serve")
  .description("migrate the database and serve the HTTP API")
  .option("--demo", "seed the demo dataset when the database is empty and print tokens to try it (test only)")
  .action(async (options: { demo?: boolean }) => {
    const cfg = config();
    if (options.demo) {
      if (cfg.environment !== "test") throw new Error("--demo is for the test environment only");
      await seedIfEmpty(cfg, 300);
    }
    const tokens = options.demo ? await demoTokens(cfg) : undefined;
    const server = await serve(cfg, { log: true });
    const lines = [`Reckon (${cfg.environment}, ${server.db.dialect}) listening on ${server.url}`];
    if (tokens) {
      lines.push(
        `  service token: ${tokens.service}`,
        `  admin token:   ${tokens.admin}`,
        `  try: curl -s -H "Authorization: Bearer ${tokens.service}" ${server.url}/api/wallets/demo_user_0001`,
        `       curl -s -H "Authorization: Bearer ${tokens.service}" ${server.url}/api/wallets/demo_user_0001/ledger`,
        `       curl -s ${server.url}/readyz`,
      );
    }
    console.log(lines.join("\n"));
    const shutdown = () => {
      server.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
  });

program
  .command("migrate")
  .description("apply pending migrations and stamp a new database with ENVIRONMENT")
  .action(async () => {
    const db = await prepareDatabase(config());
    console.log(`migrated ${db.displayUrl}`);
    await db.close();
  });

program
  .command("demo")
  .description("seed the demo dataset into an empty test database")
  .option("--users <n>", "how many users", positiveInt, 300)
  .action(async (options: { users: number }) => {
    const cfg = config();
    if (cfg.environment !== "test") throw new Error("the demo dataset is for the test environment only");
    await seedIfEmpty(cfg, options.users);
  });

const admin = program.command("admin").description("administration");
const token = admin.command("token").description("API tokens");
token
  .command("create")
  .description("create an API token and print it once")
  .addOption(new Option("--role <role>", "who the token acts as").choices(TOKEN_ROLES).makeOptionMandatory())
  .option("--name <name>", "a label for the token", "cli")
  .action(async (options: { role: TokenRole; name: string }) => {
    const db = await prepareDatabase(config());
    try {
      const created = await createApiToken(db.kysely, { role: options.role, name: options.name, now: new Date() });
      console.log(JSON.stringify({ id: created.id, role: options.role, name: options.name, token: created.token }));
    } finally {
      await db.close();
    }
  });

registerReconcileCommands(program, config);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(`reckon: ${(error as Error).message}`);
  process.exit(1);
});
