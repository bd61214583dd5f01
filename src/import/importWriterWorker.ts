/**
 * The import's writer thread (docs/decisions/import-speed.md): it owns a write connection
 * to the SQLite file and commits each batch it is sent, in order, with the same
 * `commitImportBatch` as the in-thread path, while the main thread reads the next one.
 */
import { sql } from "kysely";
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "../storage/openDatabase.js";
import { unreachable } from "../unreachable.js";
import { commitImportBatch } from "./commitImportBatch.js";
import type { FromImportWriter, ImportWriterData, ToImportWriter } from "./importWriterMessages.js";

const port = parentPort!;
const { url, settings } = workerData as ImportWriterData;
// This connection is the writer: it must not start a thread of its own.
const db = openDatabase(url, { writerThread: false });
/** After a failed batch no later one is written: the import stops where it failed, as in-thread. */
let failure: { message: string; code: string | null } | null = null;

function failed(error: unknown): { message: string; code: string | null } {
  const code = (error as { code?: unknown })?.code;
  return { message: String((error as Error)?.message ?? error), code: typeof code === "string" ? code : null };
}

/**
 * An import appends: its pages are written once and rarely read again, so this connection
 * keeps a 16 MiB page cache rather than the 64 MiB a server's connection kept then (a
 * backfill run's now, docs/decisions/sqlite-cache-sizes.md). That was ~80 MB less peak RSS
 * at 1M entries for no more CPU.
 */
const IMPORT_CACHE_KIB = 16_384;

/** Batches run one after another, in the order they were read, after the connection is set up. */
let queue: Promise<void> = sql`pragma cache_size = ${sql.raw(String(-IMPORT_CACHE_KIB))}`.execute(db.kysely).then(
  () => undefined,
  (error: unknown) => {
    failure = failed(error);
  },
);

async function commit(id: number, users: Extract<ToImportWriter, { kind: "commit" }>["users"]): Promise<void> {
  if (failure) {
    port.postMessage({ kind: "failed", id, ...failure } satisfies FromImportWriter);
    return;
  }
  try {
    const batch = await commitImportBatch(db, users, settings);
    port.postMessage({ kind: "committed", id, batch } satisfies FromImportWriter);
  } catch (error) {
    failure = failed(error);
    port.postMessage({ kind: "failed", id, ...failure } satisfies FromImportWriter);
  }
}

port.on("message", (message: ToImportWriter) => {
  switch (message.kind) {
    case "commit":
      queue = queue.then(() => commit(message.id, message.users));
      return;
    case "close":
      queue = queue.then(async () => {
        await db.close();
        port.close();
      });
      return;
  }
  unreachable(message, "import writer message");
});
