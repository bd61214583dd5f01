import type { Provider } from "../providers/PaymentEvent.js";
import type { FindingKind, FindingStatus } from "./ProviderRecords.js";

/** A finding as a run sees it, before it is stored (`storeFindings`) or listed on a dry run's record. */
export interface FindingDraft {
  provider: Provider;
  kind: FindingKind;
  /** What it is about: an event id, a purchase key, a refund or chargeback key; unique per provider and kind. */
  subject: string;
  status: FindingStatus;
  /** The UTC day of the provider's record (YYYY-MM-DD). */
  date: string;
  uid: string | null;
  amountMinor: number | null;
  /** What the provider said and what Reckon holds; for a credit, the credit to apply (`credit`). */
  detail: Record<string, unknown>;
}

export const dayOf = (iso: string): string => iso.slice(0, 10);
