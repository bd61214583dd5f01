import type { SliceToSweep } from "../storage/SeparateWriter.js";
import type { PackedSettledLines, PackedSettledLinesWritten } from "./packSettledLines.js";
import type { PackedSliceSwept } from "./packSweptSlice.js";
import type { VerifiedDelivery, WrittenDelivery } from "./pendingDelivery.js";

/** What the main thread sends the webhook writer thread. */
export type ToWriter =
  /** Store and apply these deliveries (those submitted in one turn of the main thread); answer each by its `id`. */
  | { kind: "store"; deliveries: { id: number; delivery: VerifiedDelivery }[] }
  /** Finish the batch in flight, start no other, answer `paused`: the main connection writes. */
  | { kind: "pause" }
  | { kind: "resume" }
  /** Append a reconciliation chunk's `ok` lines between two batches (`appendSettledLines`); answer `lines` with this `id`. */
  | { kind: "lines"; id: number; write: PackedSettledLines }
  /** Observe a reconciliation slice and write its `ok` lines between two batches (`sweepSlice`); answer `slice` with this `id`. */
  | { kind: "slice"; id: number; slice: SliceToSweep }
  /** Commit what was sent, answer it, close the connection and end the thread. */
  | { kind: "close" };

/** What the writer thread answers. */
export type FromWriter =
  /** Deliveries whose batch committed or that were refused (or that could not be stored: `failure` set). */
  | { kind: "settled"; results: ({ id: number; written: WrittenDelivery } | { id: number; failure: string })[] }
  | { kind: "paused" }
  | { kind: "lines"; id: number; written: PackedSettledLinesWritten | { outcome: "failed"; failure: string } }
  | { kind: "slice"; id: number; swept: PackedSliceSwept | { outcome: "failed"; failure: string } };

/** What the thread is started with. */
export interface WriterData {
  url: string;
}
