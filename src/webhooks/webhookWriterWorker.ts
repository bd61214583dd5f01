/**
 * The webhook writer thread's entry (docs/decisions/sqlite-writer-thread.md): it owns a
 * write connection to the SQLite file and runs the same group commit as the in-thread
 * path, so statements and fsyncs never hold the main thread's event loop.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "../storage/openDatabase.js";
import { WalSyncError } from "../storage/sqlite/walSync.js";
import { writeVerified } from "./pendingDelivery.js";
import { MAX_BATCH, WebhookCommitQueue } from "./WebhookCommitQueue.js";
import type { FromWriter, ToWriter, WriterData } from "./writerMessages.js";
import { unreachable } from "../unreachable.js";

const port = parentPort!;
const { url } = workerData as WriterData;
// This connection is the writer: it must not start a thread of its own. Its commits do not
// fsync: the queue answers a batch as soon as it commits, and the main thread fsyncs the log
// before it acknowledges anything (WebhookWriterThread), while this thread runs the next batch.
const db = openDatabase(url, { writerThread: false, walSyncAfterCommit: true });
const { maxInFlight, nextBatchAfterMs } = db.engine.commitQueue;
const queue = new WebhookCommitQueue({ ...db, walSync: null }, MAX_BATCH, maxInFlight, nextBatchAfterMs);

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
    // After a failed fsync, what this connection committed since the last one may not be
    // on disk: the thread ends, so what it had not answered gets 503 and is sent again
    // (a delivery that did land is then answered as a duplicate).
    if (error instanceof WalSyncError) {
      setImmediate(() => {
        throw error;
      });
      return;
    }
    answer({ id, failure: String((error as Error)?.message ?? error) });
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
    case "close":
      void close();
      return;
  }
  unreachable(message, "writer message");
});
