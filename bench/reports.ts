import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { archiveReports } from "../src/reconcile/archiveReports.js";
import { pruneReports } from "../src/reconcile/pruneReports.js";
import { NO_REPORT_KEYS } from "../src/reconcile/reportSigning.js";
import { runReconciliation } from "../src/reconcile/runReconciliation.js";
import { openDatabase, type Db } from "../src/storage/openDatabase.js";
import { recordBenchmark } from "./recordBenchmark.js";
import { scratchDatabase } from "./scratchDatabase.js";

/**
 * `npm run bench:reports`: what reconciliation reports cost to keep. Builds USERS
 * wallets (bench/reconcile/buildDataset.ts), reconciles DAYS dates with full reports,
 * and measures the report lines' table and index bytes per line on each engine (SQLite:
 * `dbstat` pages; PostgreSQL: `pg_total_relation_size`), the yearly cost at 100k and 1M
 * users (one line per user per day), then archives every run but the newest with
 * `reports archive` and prunes them, timing both and measuring the archive's bytes per line.
 *
 * RECKON_BENCH_USERS (default 100000), RECKON_BENCH_DAYS (3), RECKON_BENCH_ENGINES (sqlite,postgres).
 * Only the default size is written to docs/benchmarks.md (RECKON_BENCH_RECORD=1 forces it).
 */
const env = process.env;
const users = Number(env.RECKON_BENCH_USERS ?? 100_000);
const days = Number(env.RECKON_BENCH_DAYS ?? 3);
const engines = (env.RECKON_BENCH_ENGINES ?? "sqlite,postgres").split(",");
const NOW = new Date("2026-02-01T03:00:00.000Z");
const dates = Array.from({ length: days }, (_, index) => `2026-01-${String(index + 1).padStart(2, "0")}`);

function buildDataset(url: string): void {
  execFileSync(process.execPath, ["--import", "tsx", new URL("./reconcile/buildDataset.ts", import.meta.url).pathname, url, String(users), "1"], {
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 30 * 60_000,
  });
}

/** Table plus index bytes of the report lines, as the engine stores them. */
async function reportBytes(db: Db): Promise<number> {
  if (db.dialect === "sqlite") {
    const { rows } = await sql<{ bytes: number }>`SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name IN (
      SELECT name FROM sqlite_master WHERE tbl_name = 'reconciliation_user_reports')`.execute(db.kysely);
    return Number(rows[0]!.bytes);
  }
  await sql`CHECKPOINT`.execute(db.kysely);
  const { rows } = await sql<{ bytes: string }>`SELECT pg_total_relation_size('reconciliation_user_reports') AS bytes`.execute(db.kysely);
  return Number(rows[0]!.bytes);
}

const GB = 1e9;
const yearly = (bytesPerLine: number, atUsers: number) => Math.round((bytesPerLine * atUsers * 365) / GB * 10) / 10;

async function benchEngine(engine: string): Promise<Record<string, unknown>> {
  const scratch = await scratchDatabase(engine, `reckon_bench_reports_${process.pid}`);
  const dir = mkdtempSync(join(tmpdir(), "reckon-bench-archive-"));
  try {
    buildDataset(scratch.url);
    const db = openDatabase(scratch.url, { poolSize: 4 });
    try {
      for (const date of dates) {
        const run = await runReconciliation(db, { date, policy: "report_only", chunkUsers: 5000, mode: "start", now: () => NOW, reports: { keys: NO_REPORT_KEYS, anchorFile: null } });
        if (run.outcome !== "completed") throw new Error(`${engine}: reconciliation ${date}: ${run.outcome}`);
      }
      const lines = Number((await db.kysely.selectFrom("reconciliation_user_reports").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);
      const bytes = await reportBytes(db);
      const bytesPerLine = Math.round(bytes / lines);
      const file = join(dir, "reports.jsonl.gz");
      let started = performance.now();
      const archived = await archiveReports(db.kysely, { before: dates.at(-1)!, file, now: NOW, reports: { keys: NO_REPORT_KEYS, anchorFile: null } });
      const archiveMs = Math.round(performance.now() - started);
      if (archived.outcome !== "archived") throw new Error(`${engine}: archive: ${archived.outcome}`);
      started = performance.now();
      const pruned = await pruneReports(db, { before: dates.at(-1)!, now: NOW, partial: false });
      const pruneMs = Math.round(performance.now() - started);
      if (pruned.outcome !== "pruned") throw new Error(`${engine}: prune: ${pruned.outcome}`);
      const archiveBytesPerLine = Math.round((statSync(file).size / archived.archive.lines) * 10) / 10;
      return {
        lines,
        reportBytes: bytes,
        bytesPerLine,
        yearlyGB: { users100k: yearly(bytesPerLine, 100_000), users1M: yearly(bytesPerLine, 1_000_000) },
        archive: { runs: archived.archive.runs, lines: archived.archive.lines, fileBytes: statSync(file).size, bytesPerLine: archiveBytesPerLine, archiveMs, pruneMs },
        archiveYearlyGB: { users100k: yearly(archiveBytesPerLine, 100_000), users1M: yearly(archiveBytesPerLine, 1_000_000) },
      };
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await scratch.drop();
  }
}

const results: Record<string, unknown> = {};
for (const engine of engines) {
  results[engine] = await benchEngine(engine);
  console.error(`${engine}: ${JSON.stringify(results[engine])}`);
}
const figures = { users, days, ...results };
const notes = [
  "A report keeps one line per user per day: `yearlyGB` is bytes per line (table and indexes, as stored) × users × 365.",
  "`archive` is `reckon reports archive` of every run but the newest (gzip JSON lines with hashes and signatures) and `reckon reports prune` of the same runs;",
  "`archiveYearlyGB` is what a year of lines costs in archive files instead. Pruned space is reused by the engine (SQLite: free pages, PostgreSQL: after VACUUM), not returned to the file system.",
  "The machine is shared with other engineers' work while this ran; timings are noisy, sizes are not.",
];
if (users === 100_000 || env.RECKON_BENCH_RECORD === "1") recordBenchmark("reports", figures, notes);
else console.log(JSON.stringify(figures));
