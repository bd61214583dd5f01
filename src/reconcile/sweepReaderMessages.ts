import type { ObservedSlice } from "./observeSlice.js";
import type { UidRange } from "./readSweptUsers.js";

/** What the sweep's reader thread is started with. */
export interface ReaderData {
  /** The SQLite file, as `openDatabase` takes it. */
  url: string;
  runDate: string;
}

export type ToReader = { kind: "observe"; id: number; range: UidRange; limit: number } | { kind: "close" };

export type FromReader = { id: number; slice: ObservedSlice } | { id: number; failure: string };
