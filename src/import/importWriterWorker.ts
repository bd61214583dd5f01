/**
 * The import's writer thread (docs/decisions/import-speed.md): it owns a write connection
 * to the SQLite file and commits each batch it is sent, in order, with the same
 * `commitImportBatch` as the in-thread path, while the main thread reads the next one.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "../storage/openDatabase.js";
import { unreachable } from "../unreachable.js";
import { commitImportBatch } from "./commitImportBatch.js";
import type { FromImportWriter, ImportWriterData, ToImportWriter } from "./importWriterMessages.js";

const port = parentPort!;
const { url, settings } = workerData as ImportWriterData;
// This connection is the writer: it must not start a thread of its own.
const db = openDatabase(url, { writerThread: false });
/** Batches run one after another, in the order they were read. */
let queue: Promise<void> = Promise.resolve();
/** After a failed batch no later one is written: the import stops where it failed, as in-thread. */
let failure: { message: string; code: string | null } | null = null;

async function commit(id: number, users: Extract<ToImportWriter, { kind: "commit" }>["users"]): Promise<void> {
  if (failure) {
    port.postMessage({ kind: "failed", id, ...failure } satisfies FromImportWriter);
    return;
  }
  try {
    const batch = await commitImportBatch(db, users, settings);
    port.postMessage({ kind: "committed", id, batch } satisfies FromImportWriter);
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    failure = { message: String((error as Error)?.message ?? error), code: typeof code === "string" ? code : null };
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
