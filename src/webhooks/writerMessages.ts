import type { RangeToSweep } from "../storage/SeparateWriter.js";
import type { PackedRangeWalked } from "./packRangeWalked.js";
import type { VerifiedDelivery, WrittenDelivery } from "./pendingDelivery.js";

/** What the main thread sends the webhook writer thread. */
export type ToWriter =
  /** Store and apply these deliveries (those submitted in one turn of the main thread); answer each by its `id`. */
  | { kind: "store"; deliveries: { id: number; delivery: VerifiedDelivery }[] }
  /** Finish the batch in flight, start no other, answer `paused`: the main connection writes. */
  | { kind: "pause" }
  | { kind: "resume" }
  /** Walk a reconciliation chunk's range, each slice observed and written between two batches (`walkSlices`); answer `range` with this `id`. */
  | { kind: "range"; id: number; range: RangeToSweep }
  /** Commit what was sent, answer it, close the connection and end the thread. */
  | { kind: "close" };

/** What the writer thread answers. */
export type FromWriter =
  /** Deliveries whose batch committed or that were refused (or that could not be stored: `failure` set). */
  | { kind: "settled"; results: ({ id: number; written: WrittenDelivery } | { id: number; failure: string })[] }
  | { kind: "paused" }
  | { kind: "range"; id: number; walked: PackedRangeWalked | { failure: string } };

/** What the thread is started with. */
export interface WriterData {
  url: string;
}
