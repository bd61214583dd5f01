import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { readManifest } from "./readManifest.js";
import type { SnapshotManifest } from "./SnapshotManifest.js";

/** The snapshots in `dir`, oldest first; files that are not manifests are passed over. */
export function listSnapshots(dir: string): (SnapshotManifest & { manifestPath: string })[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .flatMap((name) => {
      const read = readManifest(join(dir, name));
      return read.ok ? [{ ...read.manifest, manifestPath: join(dir, name) }] : [];
    })
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}
