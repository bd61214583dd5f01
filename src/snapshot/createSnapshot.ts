import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Environment } from "../config.js";
import { copyDatabase, copyExtension } from "../storage/copyDatabase.js";
import { inspectDatabaseCopy } from "../storage/inspectDatabaseCopy.js";
import type { Db } from "../storage/openDatabase.js";
import { sha256File } from "./sha256File.js";
import type { SnapshotManifest } from "./SnapshotManifest.js";

export interface CreateSnapshotRequest {
  url: string;
  password?: string;
  dir: string;
  environment: Environment;
  now: Date;
}

export type CreateSnapshotOutcome = { outcome: "created"; manifestPath: string; manifest: SnapshotManifest } | { outcome: "unreadable_copy"; problem: string };

/**
 * Copies the live database into `dir`, reads the copy back for its environment stamp,
 * schema version and row counts (so the figures are the copy's, taken at one instant),
 * hashes it, and writes the manifest last.
 */
export async function createSnapshot(db: Db, request: CreateSnapshotRequest): Promise<CreateSnapshotOutcome> {
  mkdirSync(request.dir, { recursive: true });
  const name = `reckon-${request.environment}-${request.now.toISOString().replace(/[:.]/g, "-")}`;
  const file = `${name}.${copyExtension(db.dialect)}`;
  const path = join(request.dir, file);
  await copyDatabase(db, request.url, path, request.password);
  const inspected = await inspectDatabaseCopy(db.dialect, path);
  if (!inspected.ok) {
    rmSync(path, { force: true });
    return { outcome: "unreadable_copy", problem: inspected.problem };
  }
  const manifest: SnapshotManifest = {
    format: 1,
    name,
    environment: request.environment,
    engine: db.dialect,
    schemaVersion: inspected.contents.schemaVersion,
    createdAt: request.now.toISOString(),
    file,
    bytes: statSync(path).size,
    sha256: await sha256File(path),
    rowCounts: inspected.contents.rowCounts,
  };
  const manifestPath = join(request.dir, `${name}.json`);
  writeFileSync(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${manifestPath}.tmp`, manifestPath);
  return { outcome: "created", manifestPath, manifest };
}
