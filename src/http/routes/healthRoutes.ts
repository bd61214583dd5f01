import { readSchemaState } from "../../storage/migrate.js";
import { AppError } from "../errors.js";
import type { RouteDef } from "../RouteDef.js";

export const healthRoutes: RouteDef[] = [
  {
    method: "GET",
    url: "/healthz",
    access: "public",
    summary: "Liveness: the process answers",
    async handle() {
      return { status: 200, body: { status: "ok" } };
    },
  },
  {
    method: "GET",
    url: "/readyz",
    access: "public",
    summary: "Readiness: the database is reachable, migrated and of this environment",
    errors: ["not_ready"],
    async handle(_request, context) {
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
