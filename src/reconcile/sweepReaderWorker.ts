/**
 * The sweep's reader thread on SQLite (docs/decisions/reconciliation-reader-thread.md):
 * its own read-only use of a connection to the file, so the wallet/entry aggregate and
 * the hashing of the `ok` lines run beside the main thread, which writes the lines and
 * keeps serving requests.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "../storage/openDatabase.js";
import { observeSlice } from "./observeSlice.js";
import type { FromReader, ReaderData, ToReader } from "./sweepReaderMessages.js";

/** 2 MiB of page cache (negative: KiB, SQLite's default), a thirty-second of the main connection's. */
const READER_CACHE_KIB = -2048;
const port = parentPort!;
const { url, runDate } = workerData as ReaderData;
// Reads only: it must not start a writer thread of its own.
const db = openDatabase(url, { writerThread: false });
// The file's pages are in the OS cache already; a large page cache of its own would only add to the process's memory.
db.sqlite!.pragma(`cache_size = ${READER_CACHE_KIB}`);

port.on("message", (message: ToReader) => {
  if (message.kind === "close") {
    void db.close().finally(() => port.close());
    return;
  }
  observeSlice(db.kysely, runDate, message.range, message.limit).then(
    (slice) => port.postMessage({ id: message.id, slice } satisfies FromReader),
    (error: unknown) => port.postMessage({ id: message.id, failure: String((error as Error)?.message ?? error) } satisfies FromReader),
  );
});
