import type { DeltaLine } from "../reconcile/readTopDeltas.js";
import type { RunSummary, UserLineView } from "../reconcile/readReports.js";
import type { ReconcileJobOutcome } from "../reconcile/reconcileJob.js";
import type { PublishedHead } from "../reconcile/runReconciliation.js";
import type { RevertOutcome } from "../reconcile/revertRun.js";
import type { SignChainOutcome } from "../reconcile/signChain.js";
import type { ChainHead } from "../reconcile/reportSigning.js";
import type { Verdict } from "../reconcile/verifyReports.js";
import { unreachable } from "../unreachable.js";
import { count, plural, type Style } from "./output.js";

/** What `reckon reconcile`, `reconcile revert` and `reports …` say to a person. */

/** A run's drifted users a summary lists; the report holds them all. */
export const SHOWN_DELTAS = 20;

const HEAL_WORDS: Record<string, string> = {
  adjust_ledger: "each drift is closed by a reconcile_adjustment entry",
  restore_wallet: "each drifted wallet is set back to its ledger's sum",
  report_only: "drifts are reported, not healed",
};

/** The figures of a run: what was checked, found and changed. */
export function describeRun(run: RunSummary, style: Style): string[] {
  const healed = run.healPolicy === "report_only" ? 0 : run.violations - run.refused;
  const found = run.violations === 0 ? style.good("every wallet equals its ledger") : style.bad(`${plural(run.violations, "wallet")} drifted`);
  const lines = [`${style.bold(`Run ${run.runId} for ${run.date}`)} (${run.status}): checked ${plural(run.usersChecked, "user")}; ${found}.`];
  if (run.violations > 0) {
    lines.push(
      `  healed ${count(healed)}, refused ${count(run.refused)}${run.healPolicy === "report_only" ? " (policy report_only)" : ""}; ${count(run.adjustmentAbsTotal)} points of drift in total`,
      `  policy ${run.healPolicy}: ${HEAL_WORDS[run.healPolicy] ?? run.healPolicy}`,
    );
  }
  if (run.chainPosition !== null) lines.push(`  report chain position ${run.chainPosition}, checksum ${run.checksum?.slice(0, 16) ?? "-"}…`);
  if (run.error) lines.push(style.bad(`  error: ${run.error}`));
  return lines;
}

export function deltaTable(deltas: DeltaLine[], total: number, style: Style): string[] {
  if (deltas.length === 0) return [];
  const rows = deltas.map((d) => [d.uid, d.walletPoints, d.ledgerSum, d.delta, d.action, d.reason]);
  const more = total > deltas.length ? [style.dim(`  … and ${plural(total - deltas.length, "more drifted user")} in the report`)] : [];
  return ["", style.table(["user", "wallet", "ledger", "drift", "action", "reason"], rows), ...more];
}

function nextAfterRun(run: RunSummary): string {
  if (run.violations === 0) return "Next: nothing to do.";
  const steps = [`reckon reports show --date ${run.date} --uid <user> for one user's line`];
  if (run.refused > 0) steps.unshift(`look at the refused lines (reason column) and fix them by hand`);
  if (run.healPolicy === "report_only") steps.unshift("heal with RECONCILE_HEAL=adjust_ledger and run again");
  else steps.push(`reckon reconcile revert --date ${run.date} undoes the heals`);
  return `Next: ${steps.join("; ")}.`;
}

function describeHead(head: PublishedHead | null): string {
  if (!head) return "  the run was already complete: this process added no report";
  const signed = head.signed ? "signed" : "unsigned (no REPORT_SIGNING_KEY_FILE)";
  const anchored = { anchored: "anchored", no_anchor_file: "not anchored (no REPORT_ANCHOR_FILE)", anchor_failed: "anchoring failed (see the log)" }[head.anchor];
  return `  new report chain head: position ${head.position}, ${signed}, ${anchored}`;
}

export function describeReconcile(outcome: ReconcileJobOutcome, deltas: DeltaLine[], style: Style): string {
  switch (outcome.outcome) {
    case "completed":
      return [...describeRun(outcome.run, style), describeHead(outcome.head), ...deltaTable(deltas, outcome.run.violations, style), "", nextAfterRun(outcome.run)].join("\n");
    case "shared":
      return [
        `Swept this process's share of run ${outcome.run.runId} for ${outcome.run.date}; another process is finishing it.`,
        `Next: reckon reports show --date ${outcome.run.date} once it completes.`,
      ].join("\n");
    case "in_progress":
      return style.bad(`A run is already in progress (run ${outcome.runId}); nothing started.`) + "\nNext: share it with --join, or wait and read reckon reports show.";
    case "feature_disabled":
      return style.bad(`Reconciliation is disabled (${outcome.setting}=0); nothing ran.`);
    case "invalid_date":
      return style.bad(`Not a date to reconcile: ${outcome.check.message}`);
  }
  return unreachable(outcome, "reconcile outcome");
}

export function describeReport(run: RunSummary, deltas: DeltaLine[], style: Style): string {
  return [...describeRun(run, style), ...deltaTable(deltas, run.violations, style), "", nextAfterRun(run)].join("\n");
}

export function describeUserLine(line: UserLineView, style: Style): string {
  const rows: [string, string | number | null][] = [
    ["user", line.uid],
    ["run", `${line.runId} (${line.date})`],
    ["wallet", line.walletPoints],
    ["ledger sum", `${count(line.ledgerSum)} over ${plural(line.ledgerCount, "entry", "entries")}`],
    ["drift", line.delta],
    ["action", line.action],
    ["adjustment entry", line.adjustmentEntryId],
    ["reason", line.reason],
    ["detail", line.detail],
  ];
  return style.table(["field", "value"], rows);
}

export function describeRunList(runs: RunSummary[], from: string, to: string, style: Style): string {
  if (runs.length === 0) return `No reconciliation runs from ${from} to ${to}.\nNext: reckon reconcile --date <YYYY-MM-DD>.`;
  const rows = runs.map((r) => [r.date, r.runId, r.status, r.usersChecked, r.violations, r.refused, r.adjustmentAbsTotal, r.chainPosition]);
  const drifted = runs.filter((r) => r.violations > 0).length;
  return [
    `${plural(runs.length, "run")} from ${from} to ${to}; ${drifted === 0 ? style.good("none found drift") : style.bad(`${plural(drifted, "day")} with drift`)}.`,
    style.table(["date", "run", "status", "users", "drifted", "refused", "drift points", "chain"], rows),
    drifted > 0 ? "Next: reckon reports show --date <date> lists a day's drifted users." : "",
  ]
    .filter((line) => line !== "")
    .join("\n");
}

export function describeRevert(date: string, outcome: RevertOutcome, style: Style): string {
  if (outcome.outcome === "run_not_found") return style.bad(`No completed run for ${date}; nothing reverted.`);
  const lines = [
    `Reverted run ${outcome.runId} for ${date}: ${plural(outcome.reverted, "heal")} reversed with new entries, ${count(outcome.alreadyReverted)} already reversed before, ${count(outcome.refused.length)} refused.`,
  ];
  if (outcome.entryIds.length > 0) lines.push(`  new entries: ${outcome.entryIds.join(", ")}`);
  if (outcome.refused.length > 0) {
    lines.push("", style.table(["user", "why the ledger refused"], outcome.refused.map((r) => [r.uid, r.reason])), "", style.bad("Next: fix the refused users, then run the revert again (it skips what is done)."));
  } else lines.push(`Next: reckon reconcile --date ${date} runs the date again if you want a new report.`);
  return lines.join("\n");
}

/** What a verify checked, over the database or an archive file. */
export interface VerifySummary {
  verdict: Verdict;
  runsChecked: number;
  linesChecked: number;
  /** Provider findings the checked runs committed to. */
  findingsChecked: number;
  problems: number;
  head: ChainHead | null;
  archive: string | null;
}

export function describeVerify(result: VerifySummary, note: string | null, style: Style): string {
  const where = result.archive ? `archive ${result.archive}` : "report chain";
  const head = result.archive ? "" : `; ${result.head ? `chain head position ${result.head.position} (${result.head.date})` : "no runs yet"}`;
  const verdict = { verified: style.good("verified"), failed: style.bad("FAILED"), unsigned: style.bad("unsigned"), unanchored: style.bad("unanchored") }[result.verdict];
  const findings = result.findingsChecked > 0 ? ` and ${plural(result.findingsChecked, "provider finding")}` : "";
  const checked = `${plural(result.runsChecked, "run")}${findings ? ", " : " and "}${plural(result.linesChecked, "line")}${findings}`;
  const lines = [`The ${where}: ${verdict}; checked ${checked}${head}.`];
  if (result.problems > 0) lines.push(style.bad(`${plural(result.problems, "problem")} (listed on stderr): reports were altered or runs deleted.`));
  if (note) lines.push(`Next: ${note}.`);
  return lines.join("\n");
}

export function describeSign(outcome: SignChainOutcome, style: Style): string {
  switch (outcome.outcome) {
    case "signed":
      return `Signed ${plural(outcome.signed, "run")} and anchored ${plural(outcome.anchored, "run")}.\nNext: reckon reports verify.`;
    case "no_signing_key":
      return style.bad("No signing key (REPORT_SIGNING_KEY_FILE); nothing signed.");
    case "chain_has_problems":
      return style.bad(`The chain has ${plural(outcome.problems.length, "problem")} (listed on stderr); nothing signed.`) + "\nNext: reckon reports verify, and find out who altered the reports.";
  }
  return unreachable(outcome, "sign outcome");
}
