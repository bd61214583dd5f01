import type { FastifyInstance } from "fastify";
import type { Config } from "../config.js";
import { buildApp } from "../http/buildApp.js";
import type { Db } from "../storage/openDatabase.js";
import { prepareDatabase } from "./prepareDatabase.js";
import { warmMetrics } from "../ops/scrapeMetrics.js";
import { openDatabase } from "../storage/openDatabase.js";
import { deliveryWriterFor } from "../webhooks/deliveryWriterFor.js";
import { scheduleReconciliation } from "../reconcile/scheduleReconciliation.js";

export interface RunningServer {
  app: FastifyInstance;
  db: Db;
  url: string;
  stop(): Promise<void>;
}

/** Prepares the database and listens; `stop` drains requests, then closes the database. */
export async function serve(config: Config, options: { log: boolean; oneBatchAtATime?: boolean }): Promise<RunningServer> {
  const db = await prepareDatabase(config);
  // The webhook writer (a thread of its own on SQLite) is ready before the first delivery.
  deliveryWriterFor(db, { oneBatchAtATime: options.oneBatchAtATime ?? false });
  const app = await buildApp({ db, config, log: options.log });
  try {
    await warmMetrics(db);
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    await db.close();
    throw error;
  }
  // Every instance schedules the nightly run; a lease in the database lets one of them run it,
  // on connections of its own where the engine has more than one (`jobsPoolSize`).
  const { url: databaseUrl, ...databaseOptions } = config.database;
  const jobsPoolSize = db.engine.jobsPoolSize;
  const jobsDb = config.features.reconciliationEnabled && jobsPoolSize !== null ? openDatabase(databaseUrl, { ...databaseOptions, poolSize: jobsPoolSize }) : db;
  const schedule = config.features.reconciliationEnabled
    ? scheduleReconciliation(jobsDb, config, { onError: (error) => app.log.error({ err: error }, "scheduled reconciliation failed"), logger: app.log })
    : undefined;
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.http.port;
  const host = config.http.host.includes(":") ? `[${config.http.host}]` : config.http.host;
  return {
    app,
    db,
    url: `http://${host}:${port}`,
    async stop() {
      schedule?.stop();
      await app.close();
      if (jobsDb !== db) await jobsDb.close();
      await db.close();
    },
  };
}
