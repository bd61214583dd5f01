import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";
import type { RunRecord } from "./runRecord.js";
import type { ChainBase } from "./verifyChain.js";

/** The newest archive whose runs were pruned: the chain's anchor for the runs left in the database. */
export interface PrunedArchive {
  id: number;
  beforeDate: string;
  lastPosition: number;
  lastDate: string;
  lastChecksum: string;
  lastSignature: string | null;
  filePath: string;
  fileSha256: string;
}

export async function readPrunedArchive(db: Kysely<Schema>): Promise<PrunedArchive | null> {
  const row = await db
    .selectFrom("report_archives")
    .selectAll()
    .where("pruned_at", "is not", null)
    .orderBy("last_position", "desc")
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  return {
    id: Number(row.id),
    beforeDate: row.before_date,
    lastPosition: Number(row.last_position),
    lastDate: row.last_date,
    lastChecksum: row.last_checksum,
    lastSignature: row.last_signature,
    filePath: row.file_path,
    fileSha256: row.file_sha256,
  };
}

export function chainBaseOf(archive: PrunedArchive): ChainBase {
  return { position: archive.lastPosition, date: archive.lastDate, checksum: archive.lastChecksum, signature: archive.lastSignature };
}

/** SHA-256 over the runs' positions and checksums: which runs an archive holds, exactly. */
export function runsDigest(runs: readonly Pick<RunRecord, "chainPosition" | "checksum">[]): string {
  return createHash("sha256").update(JSON.stringify(runs.map((run) => [run.chainPosition, run.checksum]))).digest("hex");
}
