import { MAX_ENTRY_POINTS } from "../ledger/types.js";
import { postEntry } from "../ledger/postEntry.js";
import type { PaymentEvent, Provider, PurchaseLine } from "../providers/PaymentEvent.js";
import type { Trx } from "../storage/withTransaction.js";
import { failed, type ApplyContext, type ApplyResult } from "./ApplyResult.js";
import { lockPurchaseRef } from "./purchaseRecords.js";

type CreditEvent = Extract<PaymentEvent, { kind: "credit" }>;

/** Credits catalogue points × quantity to the buyer, once per purchase key. */
export async function applyCredit(
  trx: Trx,
  provider: Provider,
  event: CreditEvent,
  context: ApplyContext,
): Promise<ApplyResult> {
  if (event.uid === null) return failed("unknown_user", "the delivery names no valid user id");
  for (const ref of event.purchaseRefs) await lockPurchaseRef(trx, ref);
  const priced = await cataloguePoints(trx, provider, event.lines);
  if (!priced.ok) return failed(priced.reason, priced.detail);

  const result = await postEntry(trx, {
    uid: event.uid,
    kind: "purchase",
    amount: priced.points,
    idempotencyKey: event.purchaseKey,
    source: "webhook",
    sourceRef: context.sourceRef,
    now: context.now,
  });
  switch (result.outcome) {
    case "posted":
    case "duplicate":
      await trx
        .insertInto("webhook_purchases")
        .values(
          event.purchaseRefs.map((ref) => ({
            purchase_ref: ref,
            entry_id: result.entry.id,
            uid: event.uid!,
            points: result.entry.amount,
            paid_minor: event.paidMinor,
            created_at: context.now.toISOString(),
          })),
        )
        .onConflict((conflict) => conflict.column("purchase_ref").doNothing())
        .execute();
      return { status: "processed", landed: event.purchaseRefs };
    case "conflict":
      return failed("ledger_conflict", `${event.purchaseKey} was credited before with other content`);
    default:
      throw new Error(`a purchase cannot end ${result.outcome}`);
  }
}

type Priced = { ok: true; points: number } | { ok: false; reason: "unknown_product" | "invalid_payload"; detail: string };

/** Sums points per unit × quantity; the first catalogue id of a line that is known prices it. */
async function cataloguePoints(trx: Trx, provider: Provider, lines: PurchaseLine[]): Promise<Priced> {
  if (lines.length === 0) return { ok: false, reason: "unknown_product", detail: "the purchase names no product or price" };
  const ids = [...new Set(lines.flatMap((line) => line.catalogueIds))];
  const rows =
    ids.length === 0
      ? []
      : await trx
          .selectFrom("products")
          .select(["product_id", "points_per_unit"])
          .where("provider", "=", provider)
          .where("product_id", "in", ids)
          .execute();
  const perUnit = new Map(rows.map((row) => [row.product_id, row.points_per_unit]));
  let points = 0;
  for (const line of lines) {
    const known = line.catalogueIds.find((id) => perUnit.has(id));
    if (known === undefined) {
      return { ok: false, reason: "unknown_product", detail: `not in the ${provider} catalogue: ${line.catalogueIds.join(" / ") || "(none)"}` };
    }
    points += perUnit.get(known)! * line.quantity;
  }
  if (!Number.isSafeInteger(points) || points > MAX_ENTRY_POINTS) {
    return { ok: false, reason: "invalid_payload", detail: `the purchase is worth more than ${MAX_ENTRY_POINTS} points` };
  }
  return { ok: true, points };
}
