import type { Kysely } from "kysely";
import type { Provider } from "../providers/PaymentEvent.js";
import type { Schema } from "../storage/schema.js";
import type { ProviderClient, ProviderReadFailure, PurchaseRecord, SyncWindow } from "./ProviderRecords.js";

/** A credit Reckon holds for the window that the provider's walk did not list, and what the provider says of it. */
export interface UnlistedCredit {
  ref: string;
  purchase: PurchaseRecord | null;
}

/** Looked up one by one; past this, a window is beyond what one run should ask the provider about. */
const MAX_LOOKUPS = 10_000;

/**
 * The window's credits (by when Reckon credited them) whose purchase the walk did not
 * list, each looked up at the provider: one it does not know, or shows unpaid, is a
 * `credited_not_paid` finding. One reference per purchase (the first in sort order:
 * for Stripe the checkout session).
 */
export async function lookUpUnlistedCredits(
  db: Kysely<Schema>,
  client: ProviderClient,
  provider: Provider,
  window: SyncWindow,
  listed: ReadonlySet<string>,
): Promise<{ ok: true; credits: UnlistedCredit[] } | { ok: false; failure: ProviderReadFailure }> {
  const rows = await db
    .selectFrom("webhook_purchases")
    .select(["purchase_ref", "entry_id"])
    .where("purchase_ref", "like", `${provider}:%`)
    .where("created_at", ">=", window.from)
    .where("created_at", "<", window.to)
    .orderBy("purchase_ref")
    .execute();
  const byEntry = new Map<number, string[]>();
  for (const row of rows) byEntry.set(Number(row.entry_id), [...(byEntry.get(Number(row.entry_id)) ?? []), row.purchase_ref]);
  const credits: UnlistedCredit[] = [];
  for (const refs of byEntry.values()) {
    if (refs.some((ref) => listed.has(ref))) continue;
    if (credits.length >= MAX_LOOKUPS) break;
    const answer = await client.readPurchase(refs[0]!);
    if (!answer.ok) return answer;
    credits.push({ ref: refs[0]!, purchase: answer.purchase });
  }
  return { ok: true, credits };
}
