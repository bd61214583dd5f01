import { readFileSync } from "node:fs";
import { SnapshotManifest } from "./SnapshotManifest.js";

export type ReadManifestOutcome = { ok: true; manifest: SnapshotManifest } | { ok: false; problem: string };

/** Reads and checks a snapshot manifest; a file that is not one is a problem, not a crash. */
export function readManifest(path: string): ReadManifestOutcome {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    return { ok: false, problem: `cannot read ${path}: ${(error as Error).message}` };
  }
  const parsed = SnapshotManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, problem: `${path} is not a snapshot manifest: ${issue.path.join(".") || "manifest"}: ${issue.message}` };
  }
  return { ok: true, manifest: parsed.data };
}
