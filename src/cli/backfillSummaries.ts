import type { BackfillType } from "../backfill/BackfillRequest.js";
import type { BackfillRun } from "../backfill/backfillRuns.js";
import type { ImportOutcome } from "../backfill/importEvents.js";
import { count, plural, type Style } from "./output.js";

/** What `reckon backfill …` says to a person. */

/** The planned entries a dry run's summary lists; the record keeps more, the hash covers all. */
const SHOWN_PLAN = 20;

const COMMAND: Record<BackfillType, string> = { webhook_replay: "replay", reversal_backfill: "reversals", provider_sync: "provider-sync" };

function rerun(record: BackfillRun, extra = ""): string {
  const provider = record.params.provider ? ` --provider ${record.params.provider}` : "";
  return `reckon backfill ${COMMAND[record.type]}${provider} --from ${record.params.startDate} --to ${record.params.endDate}${extra}`;
}

function nextStep(record: BackfillRun): string {
  if (record.dryRun) {
    if (record.plannedEntries === 0) return "Next: nothing to apply.";
    return `Next: apply exactly this plan (refused if it changed meanwhile): ${rerun(record, ` --plan ${record.planHash}`)}`;
  }
  switch (record.status) {
    case "running":
      return `Next: follow it with reckon backfill show ${record.id}, or stop it with reckon backfill cancel ${record.id}.`;
    case "failed":
      return record.failure?.reason === "plan_changed"
        ? "Next: run a new dry run and approve its plan."
        : `Next: reckon backfill resume ${record.id} continues from where it stopped.`;
    case "partial":
      return record.errors > 0
        ? `Next: fix what the errors name (a product missing from the catalogue: reckon products set …), then run it again: ${rerun(record)} (applied events are skipped).`
        : `Next: more events remain past --max-events ${record.params.maxEvents}: ${rerun(record)}`;
    case "cancelled":
      return `Next: start it again when you are ready: ${rerun(record)}`;
    case "completed":
      return "Next: nothing left to do.";
  }
}

export function describeBackfillRun(record: BackfillRun, style: Style): string {
  const status = record.status === "completed" ? style.good(record.status) : record.status === "running" ? record.status : style.bad(record.status);
  const lines = [
    `${style.bold(`Backfill ${record.id}`)} (${record.type}${record.dryRun ? ", dry run: nothing written" : ""}, ${record.params.startDate} to ${record.params.endDate}): ${status}.`,
    `  scanned ${plural(record.scanned, "event")}: ${count(record.processed)} ${record.dryRun ? "would apply" : "applied"}, ${count(record.skipped)} skipped, ${plural(record.errors, "error")}; ${count(record.ratePerSecond)}/s`,
  ];
  if (record.failure) lines.push(style.bad(`  ${record.failure.reason}: ${record.failure.detail}`));
  if (record.dryRun) {
    lines.push(`  plan: ${plural(record.plannedEntries, "entry", "entries")}${record.planHash ? `, hash ${record.planHash}` : ""}`);
    if (record.planSample.length > 0) {
      const shown = record.planSample.slice(0, SHOWN_PLAN);
      lines.push("", style.table(["user", "kind", "points"], shown.map((e) => [e.uid, e.kind, e.amount])));
      if (record.plannedEntries > shown.length) lines.push(style.dim(`  … and ${plural(record.plannedEntries - shown.length, "more entry", "more entries")}`));
    }
  }
  if (record.type === "provider_sync") {
    lines.push(`  findings: ${plural(record.findingsFound, "difference")} between the provider's records and the ledger${record.dryRun ? "" : " (reckon provider findings)"}`);
    if (record.findingsSample.length > 0) {
      const shown = record.findingsSample.slice(0, SHOWN_PLAN);
      lines.push("", style.table(["kind", "subject", "status", "user"], shown.map((f) => [f.kind, f.subject, f.status, f.uid])));
    }
  }
  if (record.errorSamples.length > 0) {
    lines.push("", style.table(["event", "error", "detail"], record.errorSamples.map((e) => [e.eventId, e.reason, e.detail ?? null])));
    if (record.errors > record.errorSamples.length) lines.push(style.dim(`  … and ${plural(record.errors - record.errorSamples.length, "more error")}`));
  }
  lines.push("", nextStep(record));
  return lines.join("\n");
}

export function describeBackfillList(records: BackfillRun[], style: Style): string {
  if (records.length === 0) return "No backfill runs yet.\nNext: reckon backfill replay --from <date> --to <date> --dry-run";
  const rows = records.map((r) => [r.id, r.type, `${r.params.startDate}..${r.params.endDate}`, r.dryRun ? `${r.status} (dry)` : r.status, r.scanned, r.processed, r.errors, r.startedAt]);
  return [`${plural(records.length, "backfill run")}, newest first:`, style.table(["id", "type", "range", "status", "scanned", "applied", "errors", "started"], rows)].join("\n");
}

export function describeEventImport(outcome: Extract<ImportOutcome, { outcome: "imported" }>, file: string): string {
  return [
    `Read ${plural(outcome.lines, "line")} of ${file}: stored ${plural(outcome.stored, "new event")}, ${count(outcome.duplicates)} already stored.`,
    outcome.stored > 0
      ? "Next: apply them with reckon backfill replay --from <date> --to <date> --dry-run (each event is dated as its provider dated it)."
      : "Next: nothing new to replay.",
  ].join("\n");
}
