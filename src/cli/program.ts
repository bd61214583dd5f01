import cluster from "node:cluster";
import { userInfo } from "node:os";
import { Argument, Command, InvalidArgumentError, Option } from "commander";
import { createApiToken, revokeApiToken } from "../auth/apiTokens.js";
import { loadConfig, type Config } from "../config.js";
import { registerBackfillCommands } from "./backfillCommands.js";
import { registerProviderCommands } from "./providerCommands.js";
import { isEmpty, MIN_DEMO_USERS, seedDemo, type DemoSummary } from "../demo/seedDemo.js";
import { listFlags } from "../flags/listFlags.js";
import { isRuntimeFlagName, setFlag } from "../flags/setFlag.js";
import { withTransaction } from "../storage/withTransaction.js";
import { TOKEN_ROLES, type TokenRole } from "../storage/schema.js";
import { parseWorkersOption, serveWorkers, type WorkersOption } from "../runtime/serveWorkers.js";
import { setCatalogueProduct } from "../catalogue/setCatalogueProduct.js";
import { isProductId } from "../catalogue/isProductId.js";
import { PROVIDERS, type Provider } from "../providers/PaymentEvent.js";
import { MAX_ENTRY_POINTS } from "../ledger/types.js";
import { registerReconcileCommands } from "./reconcileCommands.js";
import { registerFreezeCommands } from "./freezeCommands.js";
import { registerImportCommands } from "./importCommands.js";
import { registerSnapshotCommands } from "./snapshotCommands.js";
import { registerCutoverCommands } from "./cutoverCommands.js";
import { withDatabase } from "./withDatabase.js";
import { PACKAGE_VERSION } from "../packageVersion.js";
import { describeFlagSet, describeFlags, describeProductSet, describeTokenCreated, describeTokenRevoked } from "./adminSummaries.js";
import { outputOptions, printResult, type OutputOptions } from "./output.js";
import { startProgress } from "./progress.js";

/**
 * The `reckon` command. Every command only parses its options and calls the same
 * functions the HTTP routes call; no logic lives here.
 */

function positivePoints(value: string): number {
  if (!/^\d{1,13}$/.test(value) || Number(value) < 1 || Number(value) > MAX_ENTRY_POINTS) {
    throw new InvalidArgumentError(`expected a whole number of points from 1 to ${MAX_ENTRY_POINTS}`);
  }
  return Number(value);
}

function productId(value: string): string {
  if (!isProductId(value)) throw new InvalidArgumentError("expected 1-200 visible ASCII characters");
  return value;
}

function demoUsers(value: string): number {
  const users = positiveInt(value);
  if (users < MIN_DEMO_USERS) throw new InvalidArgumentError(`expected at least ${MIN_DEMO_USERS} users, one for each planted problem`);
  return users;
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000) {
    throw new InvalidArgumentError("expected a whole number from 1 to 100000");
  }
  return Number(value);
}

function workersOption(value: string): WorkersOption {
  try {
    return parseWorkersOption(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function demoTokens(cfg: Config): Promise<{ admin: string; service: string }> {
  return withDatabase(cfg, async (db) => {
    const now = new Date();
    const admin = await createApiToken(db.kysely, { role: "admin", name: `demo-admin-${now.getTime()}`, now });
    const service = await createApiToken(db.kysely, { role: "service", name: `demo-service-${now.getTime()}`, now });
    return { admin: admin.token, service: service.token };
  });
}

async function seedIfEmpty(cfg: Config, users: number): Promise<void> {
  await withDatabase(cfg, async (db) => {
    if (!(await isEmpty(db))) {
      console.log(`demo: ${db.displayUrl} already holds data; not seeding`);
      return;
    }
    const progress = startProgress({ label: "demo", unit: "steps", logLevel: cfg.logLevel });
    const summary = await seedDemo(db, { users, now: new Date(), config: cfg, onProgress: (p) => progress.update(p) }).finally(() => progress.stop());
    console.log(
      `demo: seeded ${summary.users} users, ${summary.purchases} purchases, ${summary.spends} spends, ` +
        `${summary.refunds} refund (of ${summary.sampleUid}) into ${db.displayUrl}`,
    );
    console.log(plantedLines(summary).join("\n"));
  });
}

/** What the demo planted for the newcomer to find, in the words of the README's walk-through. */
function plantedLines({ planted }: DemoSummary): string[] {
  const failed = planted.failedDelivery;
  return [
    "demo: planted three problems for Reckon to find (README, \"The demo's story\"):",
    `  ${planted.handEdit.uid}'s wallet was edited by hand (+${planted.handEdit.points} points, no entry): reckon reconcile`,
    `  PayNow event ${failed.eventId}: ${failed.uid} bought product ${failed.product.productId} (${failed.product.name}), missing from the catalogue: stored failed`,
    `  PayNow refund ${planted.unreversedRefund.eventId} of order ${planted.unreversedRefund.orderId} was marked processed, but ${planted.unreversedRefund.uid} kept the points`,
  ];
}

/**
 * The whole command tree, reading its configuration from `env` (main.ts passes
 * process.env): a fresh tree per run, so a test can run commands in-process.
 */
export function buildProgram(env: Record<string, string | undefined>): Command {
  const config = (): Config => loadConfig(env);
  const program = new Command("reckon")
    .description("Point wallets kept provably equal to their ledger")
    .version(PACKAGE_VERSION, "-V, --version", "print the version of reckon")
    .showHelpAfterError();

  program
    .command("serve")
    .description("migrate the database and serve the HTTP API")
    .option("--demo", "seed the demo dataset when the database is empty and print tokens to try it (test only)")
    .option("--workers <n>", "processes sharing the port (node:cluster), PostgreSQL only above 1; auto = one per core", workersOption, 1)
    .action(async (options: { demo?: boolean; workers: WorkersOption }) => {
      const cfg = config();
      // Workers run this same command: only the primary seeds, prints and owns the workers.
      const primary = cluster.isPrimary;
      if (options.demo && primary) {
        if (cfg.environment !== "test") throw new Error("--demo is for the test environment only");
        await seedIfEmpty(cfg, 300);
      }
      const tokens = options.demo && primary ? await demoTokens(cfg) : undefined;
      const server = await serveWorkers(cfg, { workers: options.workers, log: true });
      const shutdown = () => {
        server.stop().then(
          () => process.exit(process.exitCode ?? 0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
      if (!server.primary) return;
      const processes = server.workers > 1 ? `, ${server.workers} workers` : "";
      const lines = [`Reckon (${cfg.environment}, ${server.dialect}${processes}) listening on ${server.url}`];
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
    });

  program
    .command("migrate")
    .description("apply pending migrations and stamp a new database with ENVIRONMENT")
    .action(async () => {
      await withDatabase(config(), async (db) => console.log(`migrated ${db.displayUrl}`));
    });

  program
    .command("demo")
    .description("seed the demo dataset into an empty test database")
    .option("--users <n>", "how many users", demoUsers, 300)
    .action(async (options: { users: number }) => {
      const cfg = config();
      if (cfg.environment !== "test") throw new Error("the demo dataset is for the test environment only");
      await seedIfEmpty(cfg, options.users);
    });

  const admin = program.command("admin").description("administration");
  const token = admin.command("token").description("API tokens");
  outputOptions(
    token
      .command("create")
      .description("create an API token and print it once")
      .addOption(new Option("--role <role>", "who the token acts as").choices(TOKEN_ROLES).makeOptionMandatory())
      .option("--name <name>", "a label for the token", "cli"),
  ).action(async (options: { role: TokenRole; name: string } & OutputOptions) => {
    await withDatabase(config(), async (db) => {
      const created = await createApiToken(db.kysely, { role: options.role, name: options.name, now: new Date() });
      const shown = { id: created.id, role: options.role, name: options.name, token: created.token };
      await printResult(options, { json: () => JSON.stringify(shown), human: (style) => describeTokenCreated(shown, style) });
    });
  });

  const products = program.command("products").description("the product catalogue: points per unit of each provider product");
  outputOptions(
    products
      .command("set")
      .description("set how many points one unit of a provider product (or Stripe price) credits; audited")
      .addArgument(new Argument("<provider>", "whose product").choices(PROVIDERS))
      .argument("<product-id>", "the provider's product id (PayNow product_id, Stripe price_… or prod_…)", productId)
      .argument("<points>", "points per unit", positivePoints)
      .option("--name <name>", "a label for the product"),
  ).action(async (provider: Provider, productId: string, points: number, options: { name?: string } & OutputOptions) => {
    await withDatabase(config(), async (db) => {
      const set = await setCatalogueProduct(db, {
        provider,
        productId,
        pointsPerUnit: points,
        name: options.name ?? null,
        actor: cliActor(undefined),
        now: new Date(),
      });
      await printResult(options, { json: () => JSON.stringify(set), human: () => describeProductSet(set) });
    });
  });

  /** Who runs the CLI, for the audit log; `--by` names a person when the OS user is shared. */
  function cliActor(by: string | undefined): string {
    if (by) return `cli:${by}`;
    try {
      return `cli:${userInfo().username}`;
    } catch {
      return "cli:unknown";
    }
  }

  function flagValue(value: string): boolean {
    const normal = value.trim().toLowerCase();
    if (["1", "true", "on", "yes"].includes(normal)) return true;
    if (["0", "false", "off", "no"].includes(normal)) return false;
    throw new InvalidArgumentError("expected true/false (or on/off, 1/0)");
  }

  outputOptions(
    token
      .command("revoke")
      .description("revoke an API token for good (audited)")
      .argument("<id>", "the token's id, as printed by token create", positiveInt)
      .option("--by <name>", "who is revoking it (default: the OS user)"),
  ).action(async (id: number, options: { by?: string } & OutputOptions) => {
    await withDatabase(config(), async (db) => {
      const outcome = await withTransaction(db, (trx) => revokeApiToken(trx, { id, actor: cliActor(options.by), now: new Date() }));
      await printResult(options, { json: () => JSON.stringify(outcome), human: (style) => describeTokenRevoked(id, outcome, style) });
      if (outcome.outcome === "not_found") process.exitCode = 1;
    });
  });

  const flags = admin.command("flags").description("runtime flags, honoured by every instance at once");
  outputOptions(flags.command("list").description("print every runtime flag, its value, and who set it")).action(async (options: OutputOptions) => {
    await withDatabase(config(), async (db) => {
      const listed = await listFlags(db.kysely);
      await printResult(options, { json: () => JSON.stringify(listed, null, 2), human: (style) => describeFlags(listed, style) });
    });
  });
  outputOptions(
    flags
      .command("set")
      .description("set a runtime flag (audited)")
      .argument("<name>", "the flag, e.g. adjustments_frozen")
      .argument("<value>", "true or false", flagValue)
      .option("--by <name>", "who is making the change (default: the OS user)"),
  ).action(async (name: string, value: boolean, options: { by?: string } & OutputOptions) => {
    if (!isRuntimeFlagName(name)) throw new Error(`no runtime flag named ${JSON.stringify(name)}; see reckon admin flags list`);
    await withDatabase(config(), async (db) => {
      const outcome = await withTransaction(db, (trx) => setFlag(trx, { name, value, actor: cliActor(options.by), now: new Date() }));
      await printResult(options, { json: () => JSON.stringify(outcome), human: (style) => describeFlagSet(outcome, style) });
    });
  });

  registerBackfillCommands(program, config);
  registerProviderCommands(program, config, cliActor);
  registerReconcileCommands(program, config);
  registerImportCommands(program, config, cliActor);
  registerFreezeCommands(admin, config, cliActor);
  registerSnapshotCommands(program, config);
  registerCutoverCommands(program, config);
  return program;
}
