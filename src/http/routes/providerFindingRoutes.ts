import { z } from "zod";
import { FINDING_STATUSES } from "../../providerSync/ProviderRecords.js";
import { PROVIDERS } from "../../providers/PaymentEvent.js";
import { resolveFinding, type ResolveOutcome } from "../../providerSync/resolveFinding.js";
import { listFindings, readFinding, type FindingsQuery as ListQuery, type ProviderFinding } from "../../providerSync/storeFindings.js";
import type { Kysely } from "kysely";
import type { Schema } from "../../storage/schema.js";
import { AppError } from "../errors.js";
import { parseBody, parseQuery } from "../input.js";
import { actorOf, type Reply, type RouteDef } from "../RouteDef.js";

const FINDING_ID = /^pf_[A-Za-z0-9_]{1,64}$/;

/** The filter the findings list takes, on the API and the admin page. */
export const FindingsQuery = z.strictObject({
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD")
    .optional(),
  status: z.enum(FINDING_STATUSES, { error: `must be one of ${FINDING_STATUSES.join(", ")}` }).optional(),
  provider: z.enum(PROVIDERS, { error: `must be one of ${PROVIDERS.join(", ")}` }).optional(),
  limit: z.string().regex(/^([1-9]\d{0,2}|1000)$/, "must be a whole number from 1 to 1000").optional(),
  /** The last finding of the previous page (`next` of its answer). */
  after: z.string().regex(FINDING_ID, "must be a finding id (pf_…)").optional(),
});

const ResolveBody = z.strictObject({
  /** The user to credit, for a credit the provider's records could not attribute. */
  uid: z.string({ error: "must be a string" }).optional(),
});

/** The filter fields of a parsed findings query. */
export function findingsFilter(query: z.infer<typeof FindingsQuery>): Pick<ListQuery, "date" | "status" | "provider"> {
  return { ...(query.date ? { date: query.date } : {}), ...(query.status ? { status: query.status } : {}), ...(query.provider ? { provider: query.provider } : {}) };
}

/** A page of findings after the finding `after` names; a page after one that does not exist is refused, not shown empty. */
export async function listFindingsPage(db: Kysely<Schema>, query: Omit<ListQuery, "after"> & { after?: string }): Promise<ProviderFinding[]> {
  const { after, ...rest } = query;
  if (after === undefined) return listFindings(db, rest);
  const previous = await readFinding(db, after);
  if (!previous) throw new AppError("finding_not_found", `no provider finding ${after} to list after`);
  return listFindings(db, { ...rest, after: previous });
}

export function parseFindingId(value: unknown): string {
  if (typeof value !== "string" || !FINDING_ID.test(value)) throw new AppError("invalid_finding_id", "a finding id is pf_ and letters, digits or _");
  return value;
}

/** The answer to a resolve, for the API and the admin page alike. */
export function answerResolve(id: string, outcome: ResolveOutcome): Reply {
  switch (outcome.outcome) {
    case "resolved":
      return { status: 200, body: outcome };
    case "finding_not_found":
      throw new AppError("finding_not_found", `no provider finding ${id}`);
    case "finding_not_open":
      throw new AppError("finding_not_open", `the finding is ${outcome.status}; only open findings are resolved`, { status: outcome.status });
    case "uid_required":
      throw new AppError("uid_required", "this credit names no usable user: send { \"uid\": \"…\" }");
    case "not_applied":
      throw new AppError("finding_not_applied", `the ledger did not apply it: ${outcome.result.status}`, { result: outcome.result });
    default: {
      const never: never = outcome;
      throw new Error(`unhandled resolve outcome ${JSON.stringify(never)}`);
    }
  }
}

export const providerFindingRoutes: RouteDef[] = [
  {
    method: "GET",
    url: "/api/reconciliation/provider-findings",
    access: ["admin"],
    summary: "Differences between the providers' own records and the ledger, by day and status; `next` is the `after` of the following page",
    schema: { query: FindingsQuery },
    errors: ["finding_not_found"],
    async handle(request, context) {
      const query = parseQuery(FindingsQuery, request.query);
      const limit = Number(query.limit ?? 500);
      const findings = await listFindingsPage(context.db.kysely, { ...findingsFilter(query), limit, ...(query.after ? { after: query.after } : {}) });
      return { status: 200, body: { findings, next: findings.length === limit ? findings.at(-1)!.id : null } };
    },
  },
  {
    method: "POST",
    url: "/api/reconciliation/provider-findings/:id/resolve",
    access: ["admin"],
    summary: "Resolve an open provider finding through the live path (a credit needs the uid), audited",
    schema: { body: ResolveBody, bodyOptional: true },
    errors: ["invalid_finding_id", "finding_not_found", "finding_not_open", "uid_required", "finding_not_applied"],
    async handle(request, context) {
      const id = parseFindingId((request.params as { id?: unknown }).id);
      const body = parseBody(ResolveBody, request.body ?? {});
      const outcome = await resolveFinding(context.db, {
        id,
        ...(body.uid === undefined ? {} : { uid: body.uid }),
        actor: actorOf(context),
        now: context.now(),
        reversalPolicy: context.config.webhooks.reversalPolicy,
      });
      return answerResolve(id, outcome);
    },
  },
];
