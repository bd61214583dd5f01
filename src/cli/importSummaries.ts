import type { ImportSummary } from "../import/importWallets.js";
import type { ShadowComparison } from "../shadow/compareShadow.js";
import { count, plural, type Style } from "./output.js";

/** What `reckon import wallets` and `reckon shadow compare` say to a person. */

/** A summary lists this many problems and differences; `--json` lists them all. */
const SHOWN = 20;

function more(total: number, shown: number, what: string, style: Style): string[] {
  return total > shown ? [style.dim(`  … and ${count(total - shown)} more ${what} (--json lists them all)`)] : [];
}

function problemRows(problems: ImportSummary["problems"]): (string | number | null)[][] {
  return problems.slice(0, SHOWN).map((p) => [p.line, p.uid, p.code, p.problem]);
}

export function describeImport(summary: ImportSummary, style: Style): string {
  const lines = [
    `${summary.outcome === "dry_run" ? "dry run (nothing written): would import" : "imported"} ${summary.users} users: ` +
      `${summary.entriesPosted} entries posted, ${summary.entriesAlreadyImported} already imported, ${summary.walletsCreated} wallets created`,
    `drift (exported balance differs from the sum of exported entries; reconciliation heals it): ${plural(summary.drift.length, "user")}`,
  ];
  if (summary.drift.length > 0) {
    lines.push(style.table(["user", "line", "exported", "entries", "drift"], summary.drift.slice(0, SHOWN).map((d) => [d.uid, d.line, d.exportedPoints, d.entriesPoints, d.drift])));
    lines.push(...more(summary.drift.length, SHOWN, "drifted users", style));
  }
  lines.push(`existing wallets whose balance differs from the export (left as they are): ${summary.mismatches.length}`);
  if (summary.mismatches.length > 0) {
    lines.push(style.table(["user", "line", "exported", "Reckon"], summary.mismatches.slice(0, SHOWN).map((m) => [m.uid, m.line, m.exportedPoints, m.reckonPoints])));
    lines.push(...more(summary.mismatches.length, SHOWN, "mismatches", style));
  }
  lines.push(`skipped: ${summary.usersSkipped} users, ${summary.problems.length} problems`);
  if (summary.problems.length > 0) {
    lines.push(style.table(["line", "user", "code", "problem"], problemRows(summary.problems)), ...more(summary.problems.length, SHOWN, "problems", style));
  }
  const next =
    summary.problems.length > 0
      ? "Next: fix the lines named above and import the file again (what was imported is skipped)."
      : summary.outcome === "dry_run"
        ? "Next: run it again without --dry-run."
        : summary.drift.length > 0
          ? "Next: reckon reconcile heals the drift; reckon shadow compare checks Reckon against the old system."
          : "Next: reckon shadow compare checks Reckon against the old system.";
  lines.push("", next);
  return lines.join("\n");
}

export function describeShadow(comparison: ShadowComparison, style: Style): string {
  const lines = [
    `${comparison.outcome === "agree" ? "agree" : "differ"}: ${comparison.legacyWallets} legacy wallets, ${comparison.reckonWallets} Reckon wallets, ` +
      `${comparison.differences.length} differences, ${comparison.problems.length} unreadable lines`,
  ];
  if (comparison.differences.length > 0) {
    const rows = comparison.differences.slice(0, SHOWN).map((d) => [d.uid, d.difference, d.legacyPoints, d.reckonPoints]);
    lines.push(style.table(["user", "difference", "legacy", "Reckon"], rows), ...more(comparison.differences.length, SHOWN, "differences", style));
  }
  if (comparison.problems.length > 0) {
    lines.push(style.table(["line", "user", "code", "problem"], problemRows(comparison.problems)), ...more(comparison.problems.length, SHOWN, "unreadable lines", style));
  }
  if (comparison.outcome === "differ") lines.push("", "Next: import the legacy system's newer export (reckon import wallets), then compare again.");
  return lines.join("\n");
}
