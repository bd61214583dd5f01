import { Option, type Command } from "commander";
import type { Config } from "../config.js";
import { importWallets, type ImportSummary } from "../import/importWallets.js";
import type { ImportFormat } from "../import/LegacyRecord.js";
import { compareShadow, type ShadowComparison } from "../shadow/compareShadow.js";
import { outputOptions, printResult, type OutputOptions } from "./output.js";
import { startProgress } from "./progress.js";
import { withDatabase } from "./withDatabase.js";

/** `reckon import wallets` and `reckon shadow compare`: thin calls into src/import and src/shadow. */

const FORMATS: ImportFormat[] = ["reckon", "firestore"];
/**
 * Like every command (docs/decisions/cli-output.md): a summary on a terminal or with
 * `--human`, the JSON object through a pipe or with `--json`. A summary lists this many
 * problems and differences; the JSON lists them all.
 */
const SHOWN = 20;

function describeImport(summary: ImportSummary): string {
  const lines = [
    `${summary.outcome === "dry_run" ? "dry run (nothing written): would import" : "imported"} ${summary.users} users: ` +
      `${summary.entriesPosted} entries posted, ${summary.entriesAlreadyImported} already imported, ${summary.walletsCreated} wallets created`,
    `drift (exported balance differs from the sum of exported entries; reconciliation heals it): ${summary.drift.length} users`,
    ...summary.drift.slice(0, SHOWN).map((d) => `  ${d.uid} (line ${d.line}): exported ${d.exportedPoints}, entries ${d.entriesPoints}, drift ${d.drift}`),
    `existing wallets whose balance differs from the export (left as they are): ${summary.mismatches.length}`,
    ...summary.mismatches.slice(0, SHOWN).map((m) => `  ${m.uid} (line ${m.line}): exported ${m.exportedPoints}, Reckon ${m.reckonPoints}`),
    `skipped: ${summary.usersSkipped} users, ${summary.problems.length} problems`,
    ...summary.problems.slice(0, SHOWN).map((p) => `  line ${p.line}${p.uid ? ` (${p.uid})` : ""}: ${p.code}: ${p.problem}`),
  ];
  return lines.join("\n");
}

function describeShadow(comparison: ShadowComparison): string {
  return [
    `${comparison.outcome === "agree" ? "agree" : "differ"}: ${comparison.legacyWallets} legacy wallets, ${comparison.reckonWallets} Reckon wallets, ` +
      `${comparison.differences.length} differences, ${comparison.problems.length} unreadable lines`,
    ...comparison.differences.slice(0, SHOWN).map((d) => `  ${d.uid}: ${d.difference} (legacy ${d.legacyPoints ?? "-"}, Reckon ${d.reckonPoints ?? "-"})`),
    ...comparison.problems.slice(0, SHOWN).map((p) => `  line ${p.line}${p.uid ? ` (${p.uid})` : ""}: ${p.code}: ${p.problem}`),
  ].join("\n");
}

export function registerImportCommands(program: Command, config: () => Config, actor: (by: string | undefined) => string): void {
  const formatOption = () => new Option("--format <format>", "the export's shape").choices(FORMATS).default("reckon");

  outputOptions(
    program
      .command("import")
      .description("import from the store Reckon replaces")
      .command("wallets")
      .description("import wallets and their full ledger history from a JSON-lines export (docs/import-format.md)")
      .requiredOption("--file <path>", "the export, one JSON document per line")
      .addOption(formatOption())
      .option("--dry-run", "read, check and decide everything, write nothing")
      .option("--by <name>", "who is importing, for the audit log (default: the OS user)"),
  ).action(async (options: { file: string; format: ImportFormat; dryRun?: boolean; by?: string } & OutputOptions) => {
      const cfg = config();
      const progress = startProgress({ label: "import", unit: "bytes", logLevel: cfg.logLevel });
      const summary = await withDatabase(cfg, (db) =>
        importWallets(db, {
          file: options.file,
          format: options.format,
          dryRun: options.dryRun === true,
          actor: actor(options.by),
          now: new Date(),
          onProgress: (p) => progress.update({ done: p.bytesRead, total: p.bytesTotal, detail: `${p.users} users, ${p.entriesPosted} entries posted` }),
        }),
      ).finally(() => progress.stop());
      await printResult(options, { json: () => JSON.stringify(summary), human: () => describeImport(summary) });
      if (summary.problems.length > 0) process.exitCode = 1;
    });

  outputOptions(
    program
      .command("shadow")
      .description("compare a running legacy system with Reckon")
      .command("compare")
      .description("list wallets missing on either side or holding different points; exit 1 when any")
      .requiredOption("--file <path>", "the legacy system's wallets, one JSON document per line")
      .addOption(formatOption()),
  ).action(async (options: { file: string; format: ImportFormat } & OutputOptions) => {
      const comparison = await withDatabase(config(), (db) => compareShadow(db, { file: options.file, format: options.format, now: new Date() }));
      await printResult(options, { json: () => JSON.stringify(comparison), human: () => describeShadow(comparison) });
      if (comparison.outcome !== "agree") process.exitCode = 1;
    });
}
