import { readSchemaState } from "../../storage/migrate.js";
import type { Db } from "../../storage/openDatabase.js";
import { AppError, WRITES_SUSPENDED } from "../errors.js";
import type { RouteDef } from "../RouteDef.js";

/**
 * Once an fsync of SQLite's log failed, only a restart makes the process write again
 * (`LogSyncLatch`): liveness fails, so a supervisor restarts it as PostgreSQL restarts
 * after its PANIC, and readiness fails, so a balancer stops sending it writes meanwhile.
 */
function refuseAfterFailedLogSync(db: Db): void {
  if (db.logSync?.failure) throw new AppError("writes_suspended", WRITES_SUSPENDED, { reason: "wal_fsync_failed" });
}

export const healthRoutes: RouteDef[] = [
  {
    method: "GET",
    url: "/healthz",
    access: "public",
    summary: "Liveness: the process answers and can still write (503 writes_suspended after a failed fsync of SQLite's log)",
    async handle(_request, context) {
      refuseAfterFailedLogSync(context.db);
      return { status: 200, body: { status: "ok" } };
    },
  },
  {
    method: "GET",
    url: "/readyz",
    access: "public",
    summary: "Readiness: the database is reachable, migrated, of this environment, and writable by this process",
    errors: ["not_ready"],
    async handle(_request, context) {
      refuseAfterFailedLogSync(context.db);
      const state = await readSchemaState(context.db);
      if (!state.reachable) throw new AppError("not_ready", "the database is not reachable");
      if (!state.migrated) throw new AppError("not_ready", "the database is not fully migrated");
      if (state.environment !== context.config.environment) {
        throw new AppError("not_ready", "the database belongs to another environment");
      }
      return { status: 200, body: { status: "ready", dialect: context.db.dialect, environment: state.environment } };
    },
  },
];
