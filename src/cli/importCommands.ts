import { Option, type Command } from "commander";
import { SingleBar } from "cli-progress";
import type { Config } from "../config.js";
import { importWallets, type ImportProgress, type ImportSummary } from "../import/importWallets.js";
import type { ImportFormat } from "../import/LegacyRecord.js";
import { compareShadow, type ShadowComparison } from "../shadow/compareShadow.js";
import { withDatabase } from "./withDatabase.js";

/** `reckon import wallets` and `reckon shadow compare`: thin calls into src/import and src/shadow. */

const FORMATS: ImportFormat[] = ["reckon", "firestore"];
/** Off a terminal, one plain progress line this often. */
const PLAIN_PROGRESS_MS = 5_000;
/** A terminal summary lists this many problems and differences; `--json` lists them all. */
const SHOWN = 20;

/** A progress bar on a terminal (cli-progress), otherwise a plain line every few seconds; both on stderr. */
function progressReporter(): { update(progress: ImportProgress): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ stream: process.stderr, format: "import [{bar}] {percentage}% | {users} users, {entries} entries", hideCursor: true });
    let started = false;
    return {
      update(progress) {
        if (!started) bar.start(progress.bytesTotal, 0, { users: 0, entries: 0 });
        started = true;
        bar.update(progress.bytesRead, { users: progress.users, entries: progress.entriesPosted });
      },
      stop: () => started && bar.stop(),
    };
  }
  let last = Date.now();
  return {
    update(progress) {
      if (Date.now() - last < PLAIN_PROGRESS_MS) return;
      last = Date.now();
      const percent = progress.bytesTotal === 0 ? 100 : Math.floor((progress.bytesRead / progress.bytesTotal) * 100);
      process.stderr.write(`import: ${percent}% of the file, ${progress.users} users, ${progress.entriesPosted} entries posted\n`);
    },
    stop() {},
  };
}

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

  program
    .command("import")
    .description("import from the store Reckon replaces")
    .command("wallets")
    .description("import wallets and their full ledger history from a JSON-lines export (docs/import-format.md)")
    .requiredOption("--file <path>", "the export, one JSON document per line")
    .addOption(formatOption())
    .option("--dry-run", "read, check and decide everything, write nothing")
    .option("--by <name>", "who is importing, for the audit log (default: the OS user)")
    .option("--json", "print the full summary as JSON")
    .action(async (options: { file: string; format: ImportFormat; dryRun?: boolean; by?: string; json?: boolean }) => {
      const progress = progressReporter();
      const summary = await withDatabase(config(), (db) =>
        importWallets(db, {
          file: options.file,
          format: options.format,
          dryRun: options.dryRun === true,
          actor: actor(options.by),
          now: new Date(),
          onProgress: (p) => progress.update(p),
        }),
      ).finally(() => progress.stop());
      console.log(options.json ? JSON.stringify(summary) : describeImport(summary));
      if (summary.problems.length > 0) process.exitCode = 1;
    });

  program
    .command("shadow")
    .description("compare a running legacy system with Reckon")
    .command("compare")
    .description("list wallets missing on either side or holding different points; exit 1 when any")
    .requiredOption("--file <path>", "the legacy system's wallets, one JSON document per line")
    .addOption(formatOption())
    .option("--json", "print the full comparison as JSON")
    .action(async (options: { file: string; format: ImportFormat; json?: boolean }) => {
      const comparison = await withDatabase(config(), (db) => compareShadow(db, { file: options.file, format: options.format, now: new Date() }));
      console.log(options.json ? JSON.stringify(comparison) : describeShadow(comparison));
      if (comparison.outcome !== "agree") process.exitCode = 1;
    });
}
