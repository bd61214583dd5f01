import type { CreateSnapshotOutcome } from "../snapshot/createSnapshot.js";
import type { RestoreSnapshotOutcome } from "../snapshot/restoreSnapshot.js";
import type { SnapshotManifest } from "../snapshot/SnapshotManifest.js";
import type { VerifySnapshotOutcome } from "../snapshot/verifySnapshot.js";
import { count, plural, type Style } from "./output.js";

/** What `reckon snapshot …` says to a person. */

export function describeSnapshotCreated(outcome: CreateSnapshotOutcome, style: Style): string {
  if (outcome.outcome === "unreadable_copy") return style.bad(`The copy could not be read back (${outcome.problem}); no manifest written.`);
  const m = outcome.manifest;
  const rows = Object.values(m.rowCounts).reduce((sum, n) => sum + n, 0);
  return [
    `Snapshot ${style.bold(m.name)} of the ${m.environment} ${m.engine} database (schema ${m.schemaVersion}): ${count(m.bytes)} bytes, ${plural(rows, "row")}.`,
    `  manifest: ${outcome.manifestPath}`,
    `Next: reckon snapshot verify ${outcome.manifestPath}`,
  ].join("\n");
}

export function describeSnapshotList(dir: string, found: (SnapshotManifest & { manifestPath: string })[], style: Style): string {
  if (found.length === 0) return `No snapshots in ${dir}.\nNext: reckon snapshot create --dir ${dir}`;
  const rows = found.map((s) => [s.name, s.environment, s.engine, s.schemaVersion, s.createdAt, s.bytes, s.manifestPath]);
  return [`${plural(found.length, "snapshot")} in ${dir}, oldest first:`, style.table(["name", "env", "engine", "schema", "created", "bytes", "manifest"], rows)].join("\n");
}

export function describeSnapshotVerified(outcome: VerifySnapshotOutcome, style: Style): string {
  if (outcome.outcome === "verified") return `${style.good("Verified")} snapshot ${outcome.manifest.name}: checksum, environment, schema version and row counts hold.`;
  return [style.bad(`Snapshot failed verification (${plural(outcome.problems.length, "problem")}):`), ...outcome.problems.map((p) => `  ${p}`)].join("\n");
}

export function describeRestore(outcome: RestoreSnapshotOutcome, style: Style): string {
  switch (outcome.outcome) {
    case "restored": {
      const healthy = outcome.invariantViolations === 0 && outcome.reports.verdict !== "failed";
      return [
        `Restored ${outcome.name}: ${outcome.invariantViolations === 0 ? style.good("every wallet equals its ledger") : style.bad(`${plural(outcome.invariantViolations, "wallet")} differ from their ledger`)}; ` +
          `report chain ${outcome.reports.verdict} (${plural(outcome.reports.runsChecked, "run")}, ${plural(outcome.reports.problems, "problem")}).`,
        healthy ? "Next: point DATABASE_URL at the restored database." : style.bad("Next: do not serve from it before you know why (reckon reports verify, reckon reconcile)."),
      ].join("\n");
    }
    case "unreadable_manifest":
      return style.bad(`The manifest cannot be read: ${outcome.problem}; nothing restored.`);
    case "wrong_environment":
      return style.bad(`The snapshot belongs to ${outcome.snapshot}, this is ${outcome.expected}; nothing restored.`);
    case "newer_schema":
      return style.bad(`The snapshot has schema ${outcome.snapshot}, this Reckon knows up to ${outcome.supported}; upgrade first.`);
    case "verify_failed":
      return [style.bad("The snapshot failed verification; nothing restored:"), ...outcome.problems.map((p) => `  ${p}`)].join("\n");
    case "live_target":
    case "target_not_empty":
    case "wrong_engine":
      return style.bad(`Not restored (${outcome.outcome}): ${outcome.detail}.`);
  }
}
