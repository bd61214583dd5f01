import type { KeyObject } from "node:crypto";
import type { Environment } from "../config.js";
import { verifyReports, type Verdict } from "../reconcile/verifyReports.js";
import { latestSchemaVersion } from "../storage/latestSchemaVersion.js";
import { openDatabase } from "../storage/openDatabase.js";
import { restoreDatabaseCopy } from "../storage/restoreDatabaseCopy.js";
import { countInvariantViolations } from "./countInvariantViolations.js";
import { readManifest } from "./readManifest.js";
import { verifySnapshot } from "./verifySnapshot.js";

export interface RestoreSnapshotRequest {
  manifestPath: string;
  targetUrl: string;
  /** The database this process serves (DATABASE_URL): restoring over it needs `force`. */
  liveUrl: string;
  force: boolean;
  environment: Environment;
  password?: string;
  verifyKey: KeyObject | null;
}

export type RestoreSnapshotOutcome =
  | { outcome: "restored"; name: string; invariantViolations: number; reports: { verdict: Verdict; runsChecked: number; problems: number } }
  | { outcome: "unreadable_manifest"; problem: string }
  | { outcome: "wrong_environment"; snapshot: string; expected: Environment }
  | { outcome: "newer_schema"; snapshot: number; supported: number }
  | { outcome: "live_target"; detail: string }
  | { outcome: "verify_failed"; problems: string[] }
  | { outcome: "target_not_empty" | "wrong_engine"; detail: string };

/**
 * Restores a snapshot into a fresh database, then proves what it restored: the
 * invariant over every wallet and the report chain (`reports verify`). The chain is
 * checked without the anchor file: the anchor has moved on since the snapshot, and the
 * runs after it are missing by design.
 */
export async function restoreSnapshot(request: RestoreSnapshotRequest): Promise<RestoreSnapshotOutcome> {
  const read = readManifest(request.manifestPath);
  if (!read.ok) return { outcome: "unreadable_manifest", problem: read.problem };
  const { manifest } = read;
  if (manifest.environment !== request.environment) return { outcome: "wrong_environment", snapshot: manifest.environment, expected: request.environment };
  const supported = latestSchemaVersion(manifest.engine);
  if (manifest.schemaVersion > supported) return { outcome: "newer_schema", snapshot: manifest.schemaVersion, supported };
  if (request.targetUrl === request.liveUrl && !request.force) {
    return { outcome: "live_target", detail: "the target is this environment's DATABASE_URL; restore into a new database, or add --force" };
  }
  const verified = await verifySnapshot(request.manifestPath);
  if (verified.outcome === "failed") return { outcome: "verify_failed", problems: verified.problems };

  const restored = await restoreDatabaseCopy(manifest.engine, verified.copyPath, request.targetUrl, {
    force: request.force,
    ...(request.password ? { password: request.password } : {}),
  });
  if (restored.outcome !== "restored") return restored;
  const db = openDatabase(request.targetUrl, { poolSize: 2, ...(request.password ? { password: request.password } : {}) });
  try {
    const invariantViolations = await countInvariantViolations(db.kysely);
    const reports = await verifyReports(db.kysely, { verifyKey: request.verifyKey });
    return {
      outcome: "restored",
      name: manifest.name,
      invariantViolations,
      reports: { verdict: reports.verdict, runsChecked: reports.runsChecked, problems: reports.problems.length },
    };
  } finally {
    await db.close();
  }
}
