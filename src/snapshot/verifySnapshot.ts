import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { inspectDatabaseCopy } from "../storage/inspectDatabaseCopy.js";
import { readManifest } from "./readManifest.js";
import { sha256File } from "./sha256File.js";
import type { SnapshotManifest } from "./SnapshotManifest.js";

export type VerifySnapshotOutcome =
  | { outcome: "verified"; manifest: SnapshotManifest; copyPath: string }
  /** Each problem in words; the snapshot must not be restored. */
  | { outcome: "failed"; problems: string[] };

/**
 * Checks a snapshot without restoring it: the manifest's shape, the copy's size and
 * SHA-256, and that the copy itself holds the environment, schema version and row
 * counts the manifest records.
 */
export async function verifySnapshot(manifestPath: string): Promise<VerifySnapshotOutcome> {
  const read = readManifest(manifestPath);
  if (!read.ok) return { outcome: "failed", problems: [read.problem] };
  const { manifest } = read;
  const copyPath = join(dirname(manifestPath), manifest.file);
  if (!existsSync(copyPath)) return { outcome: "failed", problems: [`the copy ${copyPath} is missing`] };
  const problems: string[] = [];
  const bytes = statSync(copyPath).size;
  if (bytes !== manifest.bytes) problems.push(`the copy has ${bytes} bytes, the manifest says ${manifest.bytes}`);
  const sha256 = await sha256File(copyPath);
  if (sha256 !== manifest.sha256) problems.push(`the copy's SHA-256 is ${sha256}, the manifest says ${manifest.sha256}`);
  if (problems.length > 0) return { outcome: "failed", problems };
  const inspected = await inspectDatabaseCopy(manifest.engine, copyPath);
  if (!inspected.ok) return { outcome: "failed", problems: [inspected.problem] };
  const { contents } = inspected;
  if (contents.environment !== manifest.environment) problems.push(`the copy is stamped ${contents.environment ?? "(none)"}, the manifest says ${manifest.environment}`);
  if (contents.schemaVersion !== manifest.schemaVersion) problems.push(`the copy is at schema ${contents.schemaVersion}, the manifest says ${manifest.schemaVersion}`);
  for (const table of new Set([...Object.keys(manifest.rowCounts), ...Object.keys(contents.rowCounts)])) {
    if (manifest.rowCounts[table] !== contents.rowCounts[table]) {
      problems.push(`${table}: the copy holds ${contents.rowCounts[table] ?? "no table"} rows, the manifest says ${manifest.rowCounts[table] ?? "no table"}`);
    }
  }
  return problems.length > 0 ? { outcome: "failed", problems } : { outcome: "verified", manifest, copyPath };
}
