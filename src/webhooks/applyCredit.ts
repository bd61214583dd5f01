import type { CompiledQuery, QueryResult } from "kysely";
import { entryReads, postEntries, type EntryReads } from "../ledger/postEntries.js";
import { MAX_ENTRY_POINTS } from "../ledger/types.js";
import type { PaymentEvent, Provider, PurchaseLine } from "../providers/PaymentEvent.js";
import { engineOf, type WebhookPurchaseRow } from "../storage/EngineAdapter.js";
import { statementChunks } from "../storage/setBased.js";
import type { Trx } from "../storage/withTransaction.js";
import { failed, type ApplyContext, type ApplyResult } from "./ApplyResult.js";
import { lockPurchaseRefs } from "./purchaseRecords.js";
import { unreachable } from "../unreachable.js";

export type CreditEvent = Extract<PaymentEvent, { kind: "credit" }>;

export interface Credit {
  provider: Provider;
  event: CreditEvent;
  context: ApplyContext;
}

/** Credits catalogue points × quantity to the buyer, once per purchase key. */
export async function applyCredit(trx: Trx, provider: Provider, event: CreditEvent, context: ApplyContext): Promise<ApplyResult> {
  const [result] = await applyCredits(trx, [{ provider, event, context }]);
  return result!;
}

/** What crediting a batch reads before it decides: the catalogue and the entries' reads (`entryReads`). */
export interface CreditReads {
  catalogue: Catalogue;
  entries: EntryReads;
}

/**
 * The statements of `CreditReads` for `credits` (or for more: a superset of their products,
 * users and purchase keys will do), to be sent together with others (`sendInOrder`) once
 * the purchases' names are locked, and how to read their results.
 */
export function creditReads(trx: Trx, credits: readonly Pick<Credit, "provider" | "event">[]): { statements: CompiledQuery[]; read(results: readonly QueryResult<any>[]): CreditReads } {
  const catalogue = catalogueReads(trx, credits);
  const withUser = credits.filter((credit) => credit.event.uid !== null);
  const entries = entryReads(trx, withUser.map((credit) => credit.event.uid!), withUser.map((credit) => credit.event.purchaseKey));
  return {
    statements: [...catalogue.statements, ...entries.statements],
    read: (results) => ({
      catalogue: catalogue.read(results.slice(0, catalogue.statements.length)),
      entries: entries.read(results.slice(catalogue.statements.length)),
    }),
  };
}

/**
 * Applies many credits as one batch, with the outcome each would have on its own in
 * this order: one lock statement for their purchases (none when the caller already
 * holds them, `refsLocked`), the catalogue, wallet, ledger-sum and key reads sent together
 * (or none when the caller read them with its own, `reads`), the writes of `postEntries`,
 * one insert of purchase records.
 */
export async function applyCredits(
  trx: Trx,
  credits: readonly Credit[],
  refsLocked = false,
  reads?: CreditReads,
  /** Where given, the purchase records are added here for the caller to insert, instead of inserted now. */
  purchasesLater?: WebhookPurchaseRow[],
): Promise<ApplyResult[]> {
  if (!refsLocked) await lockPurchaseRefs(trx, credits.flatMap((credit) => credit.event.purchaseRefs));
  if (reads === undefined) {
    const statements = creditReads(trx, credits);
    reads = statements.read(await engineOf(trx).sendInOrder(trx, statements.statements));
  }
  const catalogue = reads.catalogue;
  const results: ApplyResult[] = credits.map((credit) =>
    credit.event.uid === null ? failed("unknown_user", "the delivery names no valid user id") : { status: "processed", landed: credit.event.purchaseRefs },
  );
  const posting: { index: number; credit: Credit; uid: string }[] = [];
  const inputs = [];
  for (const [index, credit] of credits.entries()) {
    if (credit.event.uid === null) continue;
    const priced = price(catalogue, credit.provider, credit.event.lines);
    if (!priced.ok) {
      results[index] = failed(priced.reason, priced.detail);
      continue;
    }
    posting.push({ index, credit, uid: credit.event.uid });
    inputs.push({
      uid: credit.event.uid,
      kind: "purchase" as const,
      amount: priced.points,
      idempotencyKey: credit.event.purchaseKey,
      source: "webhook",
      sourceRef: credit.context.sourceRef,
      now: credit.context.now,
    });
  }
  const outcomes = await postEntries(trx, inputs, reads.entries);
  const purchases = [];
  for (const [position, outcome] of outcomes.entries()) {
    const { index, credit, uid } = posting[position]!;
    switch (outcome.outcome) {
      case "posted":
      case "duplicate":
        for (const ref of credit.event.purchaseRefs) {
          purchases.push({
            purchase_ref: ref,
            entry_id: outcome.entry.id,
            uid,
            points: outcome.entry.amount,
            paid_minor: credit.event.paidMinor,
            created_at: credit.context.now.toISOString(),
          });
        }
        break;
      case "conflict":
        results[index] = failed("ledger_conflict", `${credit.event.purchaseKey} was credited before with other content`);
        break;
      case "out_of_range":
        results[index] = failed("balance_out_of_range", `crediting ${credit.event.purchaseKey} would take ${uid} beyond ±${outcome.limit} points`);
        break;
      // A purchase is a credit, so the below-zero rule never refuses it.
      case "insufficient_points":
        results[index] = failed("internal_error", `${credit.event.purchaseKey} was refused as an overdraft`);
        break;
      default:
        unreachable(outcome, "purchase outcome");
    }
  }
  if (purchasesLater) purchasesLater.push(...purchases);
  else await engineOf(trx).insertWebhookPurchases(trx, purchases);
  return results;
}

type Catalogue = Map<string, number>;
const catalogueKey = (provider: Provider, productId: string) => `${provider}\u0000${productId}`;

/** The reads of the points per unit of every catalogue id the credits name, per provider. */
function catalogueReads(trx: Trx, credits: readonly Pick<Credit, "provider" | "event">[]): { statements: CompiledQuery[]; read(results: readonly QueryResult<any>[]): Catalogue } {
  const wanted = new Map<Provider, Set<string>>();
  for (const { provider, event } of credits) {
    const ids = wanted.get(provider) ?? new Set<string>();
    for (const line of event.lines) for (const id of line.catalogueIds) ids.add(id);
    wanted.set(provider, ids);
  }
  const statements: CompiledQuery[] = [];
  const providers: Provider[] = [];
  for (const [provider, ids] of wanted) {
    for (const chunk of statementChunks([...ids], 1)) {
      statements.push(trx.selectFrom("products").select(["product_id", "points_per_unit"]).where("provider", "=", provider).where("product_id", "in", chunk).compile());
      providers.push(provider);
    }
  }
  return {
    statements,
    read: (results) => {
      const catalogue: Catalogue = new Map();
      results.forEach((result, index) => {
        for (const row of result.rows as { product_id: string; points_per_unit: number }[]) catalogue.set(catalogueKey(providers[index]!, row.product_id), row.points_per_unit);
      });
      return catalogue;
    },
  };
}

type Priced = { ok: true; points: number } | { ok: false; reason: "unknown_product" | "invalid_payload"; detail: string };

/** Sums points per unit × quantity; the first catalogue id of a line that is known prices it. */
function price(catalogue: Catalogue, provider: Provider, lines: PurchaseLine[]): Priced {
  if (lines.length === 0) return { ok: false, reason: "unknown_product", detail: "the purchase names no product or price" };
  let points = 0;
  for (const line of lines) {
    const known = line.catalogueIds.find((id) => catalogue.has(catalogueKey(provider, id)));
    if (known === undefined) {
      return { ok: false, reason: "unknown_product", detail: `not in the ${provider} catalogue: ${line.catalogueIds.join(" / ") || "(none)"}` };
    }
    points += catalogue.get(catalogueKey(provider, known))! * line.quantity;
  }
  if (!Number.isSafeInteger(points) || points > MAX_ENTRY_POINTS) {
    return { ok: false, reason: "invalid_payload", detail: `the purchase is worth more than ${MAX_ENTRY_POINTS} points` };
  }
  return { ok: true, points };
}
