/**
 * The webhook writer thread's entry (docs/decisions/sqlite-writer-thread.md): it owns a
 * write connection to the SQLite file and runs the same group commit as the in-thread
 * path, so statements and fsyncs never hold the main thread's event loop.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "../storage/openDatabase.js";
import { sweepSlice } from "../reconcile/sweepSlice.js";
import { walkSlices } from "../reconcile/walkSlices.js";
import type { RangeToSweep } from "../storage/SeparateWriter.js";
import { packRangeWalked } from "./packRangeWalked.js";
import { writeVerified } from "./pendingDelivery.js";
import { MAX_BATCH, WebhookCommitQueue } from "./WebhookCommitQueue.js";
import type { FromWriter, ToWriter, WriterData } from "./writerMessages.js";
import { unreachable } from "../unreachable.js";

const port = parentPort!;
const WRITER_CACHE_KIB = 16_384;
const { url } = workerData as WriterData;
// This connection is the writer: it must not start a thread of its own. Its commits do not
// fsync (`callerFsyncsLog`): the queue answers a batch as soon as it commits, and the main
// thread fsyncs the log before it acknowledges anything (WebhookWriterThread), while this
// thread runs the next batch.
// Its page cache is the import writer's 16 MiB, not a backfill run's 64: a batch
// touches the tails of the tables it appends to and one leaf per user in each index, and
// the interior pages that lead there fit many times over; random leaves miss at either
// size on a large file, and a 64 MiB cache full of them counted in the serving process's
// resident memory (docs/decisions/reconciliation-reader-thread.md, "Peak RSS").
const db = openDatabase(url, { writerThread: false, callerFsyncsLog: true, cacheKiB: WRITER_CACHE_KIB });
const { maxInFlight, nextBatchAfterMs } = db.engine.commitQueue;
const queue = new WebhookCommitQueue(db, MAX_BATCH, maxInFlight, nextBatchAfterMs);

// Answers go back one message per batch, once the promises of its deliveries have settled
// (process.nextTick runs after them) and before the next batch starts (a setImmediate).
let settled: Extract<FromWriter, { kind: "settled" }>["results"] = [];
function answer(result: (typeof settled)[number]): void {
  if (settled.length === 0) {
    process.nextTick(flush);
  }
  settled.push(result);
}
function flush(): void {
  if (settled.length === 0) return;
  port.postMessage({ kind: "settled", results: settled } satisfies FromWriter);
  settled = [];
}

async function store({ id, delivery }: Extract<ToWriter, { kind: "store" }>["deliveries"][number]): Promise<void> {
  try {
    answer({ id, written: await writeVerified(queue, delivery) });
  } catch (error) {
    answer({ id, failure: String((error as Error)?.message ?? error) });
  }
}

/**
 * A reconciliation chunk's range, walked a slice at a time, each slice observed and
 * written in one statement between two batches (docs/decisions/reconciliation-performance.md,
 * "SQLite sweep, fifth round"): a batch waits behind one slice at most, and the walk
 * needs no round trip through the main thread between slices. Not fsynced here: the
 * sweep marks the chunk done afterwards on the main connection, whose commit fsyncs the
 * same log with these frames before it; a power cut before that leaves the chunk
 * claimed, and its next claimer writes the lines again.
 */
async function sweepRange(id: number, range: RangeToSweep): Promise<void> {
  try {
    const walked = await walkSlices(range, (slice) => queue.between(() => sweepSlice(db, slice)), async () => undefined);
    port.postMessage({ kind: "range", id, walked: packRangeWalked(walked) } satisfies FromWriter);
  } catch (error) {
    port.postMessage({ kind: "range", id, walked: { failure: String((error as Error)?.message ?? error) } } satisfies FromWriter);
  }
}

async function close(): Promise<void> {
  await queue.drain();
  flush();
  await db.close();
  port.close();
}

port.on("message", (message: ToWriter) => {
  switch (message.kind) {
    case "store":
      // Submitted in one turn, so the queue takes them into one batch.
      for (const delivery of message.deliveries) void store(delivery);
      return;
    case "pause":
      void queue.pause().then(() => port.postMessage({ kind: "paused" } satisfies FromWriter));
      return;
    case "resume":
      queue.resume();
      return;
    case "range":
      void sweepRange(message.id, message.range);
      return;
    case "close":
      void close();
      return;
  }
  unreachable(message, "writer message");
});
