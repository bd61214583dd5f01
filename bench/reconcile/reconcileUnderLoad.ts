import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { createApiToken } from "../../src/auth/apiTokens.js";
import { setCatalogueProduct } from "../../src/catalogue/setCatalogueProduct.js";
import { loadConfig } from "../../src/config.js";
import { buildApp } from "../../src/http/buildApp.js";
import { todayUtc } from "../../src/reconcile/checkRunDate.js";
import { runReconciliation } from "../../src/reconcile/runReconciliation.js";
import { openDatabase } from "../../src/storage/openDatabase.js";
import { LOAD_POINTS_PER_UNIT, LOAD_PRODUCT } from "../paynowLoad.js";

/**
 * The measured process: it serves the HTTP API and runs the reconciliation on the same
 * database handle, as `reckon serve` does when its scheduler fires, while a separate
 * process offers load to one route. Prints one JSON object.
 *
 * argv: url users entries rate route chunkUsers
 */
const [url, usersText, entriesText, rateText, route, chunkText] = process.argv.slice(2);
const users = Number(usersText);
const entries = Number(entriesText);

async function main() {
  const db = openDatabase(url!, { poolSize: 10 });
  const aggregateStarted = performance.now();
  const bare = await sql<{ violations: number | string }>`
    SELECT COUNT(*) AS violations FROM wallets w
    LEFT JOIN (SELECT uid, SUM(amount) AS total FROM ledger_entries GROUP BY uid) e ON e.uid = w.uid
    WHERE w.points <> COALESCE(e.total, 0)`.execute(db.kysely);
  const bareAggregateSeconds = (performance.now() - aggregateStarted) / 1000;

  const now = new Date();
  const token = await createApiToken(db.kysely, { role: "service", name: "bench", now });
  // The webhook route needs PayNow secrets and the product its orders buy.
  const paynowSecrets = [randomBytes(24).toString("hex"), randomBytes(24).toString("hex")].join(",");
  await setCatalogueProduct(db, { provider: "paynow", productId: LOAD_PRODUCT, pointsPerUnit: LOAD_POINTS_PER_UNIT, actor: "bench", now });
  const app = await buildApp({ db, config: loadConfig({ DATABASE_URL: url, LOG_LEVEL: "silent", PAYNOW_WEBHOOK_SECRETS: paynowSecrets }) });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  const offered = Number(rateText) > 0;
  const loader = !offered ? undefined : fork(new URL("./offerLoad.ts", import.meta.url).pathname, [`http://127.0.0.1:${port}`, token.token, rateText!, "600", route!, String(users)], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, RECKON_BENCH_PAYNOW_SECRETS: paynowSecrets },
  });
  const loadResult = new Promise<unknown>((resolve) => (loader ? loader.once("message", resolve) : resolve("not offered")));
  if (loader) await new Promise((resolve) => setTimeout(resolve, 3000));
  loader?.send("load");

  // As `reckon serve` does: on PostgreSQL the run has its own small pool.
  const jobsDb = db.dialect === "postgres" ? openDatabase(url!, { poolSize: 2 }) : db;
  const started = performance.now();
  const outcome = await runReconciliation(jobsDb, { date: todayUtc(now), policy: "adjust_ledger", chunkUsers: Number(chunkText), mode: "start", now: () => new Date() });
  const reconcileSeconds = (performance.now() - started) / 1000;
  loader?.send("stop");
  const load = await loadResult;
  if (outcome.outcome !== "completed") throw new Error(`run ended ${outcome.outcome}`);

  const adjustments = await db.kysely
    .selectFrom("ledger_entries")
    .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.coalesce(eb.fn.sum<number>("amount"), eb.lit(0)).as("total")])
    .where("kind", "=", "reconcile_adjustment")
    .executeTakeFirstOrThrow();
  await app.close();
  if (jobsDb !== db) await jobsDb.close();
  await db.close();
  console.log(
    JSON.stringify({
      reconcileSeconds: Math.round(reconcileSeconds * 100) / 100,
      usersPerSecond: Math.round(users / reconcileSeconds),
      entriesPerSecond: Math.round(entries / reconcileSeconds),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      usersChecked: outcome.run.usersChecked,
      driftsFound: outcome.run.violations,
      adjustmentEntries: Number(adjustments.n),
      adjustmentSum: Number(adjustments.total),
      adjustmentAbsTotal: outcome.run.adjustmentAbsTotal,
      bareAggregateSeconds: Math.round(bareAggregateSeconds * 100) / 100,
      bareAggregateViolations: Number(bare.rows[0]!.violations),
      ratioToBareAggregate: Math.round((reconcileSeconds / bareAggregateSeconds) * 100) / 100,
      load,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
