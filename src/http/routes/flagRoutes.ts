import { z } from "zod";
import { listFlags } from "../../flags/listFlags.js";
import { isRuntimeFlagName, setFlag } from "../../flags/setFlag.js";
import { withTransaction } from "../../storage/withTransaction.js";
import { AppError } from "../errors.js";
import { NoQuery, parseBody, parseQuery } from "../input.js";
import { actorOf, type RouteDef } from "../RouteDef.js";

const FlagBody = z.strictObject({ value: z.boolean({ error: "must be true or false" }) });

export const flagRoutes: RouteDef[] = [
  {
    method: "GET",
    url: "/api/admin/flags",
    access: ["admin"],
    summary: "The runtime flags and their values",
    schema: { query: NoQuery },
    async handle(request, context) {
      parseQuery(NoQuery, request.query);
      return { status: 200, body: { flags: await listFlags(context.db.kysely) } };
    },
  },
  {
    method: "POST",
    url: "/api/admin/flags/:name",
    access: ["admin"],
    summary: "Set a runtime flag",
    schema: { body: FlagBody },
    errors: ["unknown_flag"],
    bodyLimitBytes: 1024,
    async handle(request, context) {
      const name = (request.params as { name?: unknown }).name;
      if (typeof name !== "string" || !isRuntimeFlagName(name)) {
        throw new AppError("unknown_flag", "no runtime flag by that name; GET /api/admin/flags lists them");
      }
      const body = parseBody(FlagBody, request.body);
      const outcome = await withTransaction(context.db, (trx) =>
        setFlag(trx, { name, value: body.value, actor: actorOf(context), now: context.now() }),
      );
      return { status: 200, body: outcome };
    },
  },
];
