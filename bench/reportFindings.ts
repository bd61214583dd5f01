import type { FindingDraft } from "../src/providerSync/FindingDraft.js";
import { storeFindings } from "../src/providerSync/storeFindings.js";
import { NO_REPORT_KEYS } from "../src/reconcile/reportSigning.js";
import { runReconciliation } from "../src/reconcile/runReconciliation.js";
import { verifyReports } from "../src/reconcile/verifyReports.js";
import { migrate } from "../src/storage/migrate.js";
import { openDatabase } from "../src/storage/openDatabase.js";
import { withTransaction } from "../src/storage/withTransaction.js";
import { recordBenchmark } from "./recordBenchmark.js";
import { scratchDatabase } from "./scratchDatabase.js";

/**
 * `npm run bench:report-findings`: what committing provider findings to the report chain
 * costs. Stores FINDINGS findings (a sync after a long outage), then times the run that
 * commits to them (its chain transaction hashes and stamps every one) against a run
 * that commits to none, and `reports verify` over both.
 *
 * RECKON_BENCH_FINDINGS (default 50000), RECKON_BENCH_ENGINES (sqlite,postgres).
 * Only the default size is written to docs/benchmarks.md (RECKON_BENCH_RECORD=1 forces it).
 */
const env = process.env;
const findings = Number(env.RECKON_BENCH_FINDINGS ?? 50_000);
const engines = (env.RECKON_BENCH_ENGINES ?? "sqlite,postgres").split(",");
const NOW = new Date("2026-03-03T03:00:00.000Z");
const STORE_BATCH = 1_000;

const draft = (index: number): FindingDraft => ({
  provider: "paynow",
  kind: "missing_delivery",
  subject: `bench_evt_${index}`,
  status: "repaired",
  date: "2026-03-01",
  uid: null,
  amountMinor: 500,
  detail: { eventType: "ON_ORDER_COMPLETED", deliveryState: "failed", applied: "processed" },
});

async function benchEngine(engine: string): Promise<Record<string, unknown>> {
  const scratch = await scratchDatabase(engine, `reckon_bench_report_findings_${process.pid}`);
  try {
    const db = openDatabase(scratch.url, { poolSize: 4 });
    try {
      await migrate(db, "test");
      const reconcileMs = async (date: string) => {
        const started = performance.now();
        const run = await runReconciliation(db, { date, policy: "report_only", chunkUsers: 5000, mode: "start", now: () => NOW, reports: { keys: NO_REPORT_KEYS, anchorFile: null } });
        if (run.outcome !== "completed") throw new Error(`${engine}: reconciliation ${date}: ${run.outcome}`);
        return Math.round(performance.now() - started);
      };
      const withoutFindingsMs = await reconcileMs("2026-03-01");
      for (let start = 0; start < findings; start += STORE_BATCH) {
        const drafts = Array.from({ length: Math.min(STORE_BATCH, findings - start) }, (_, offset) => draft(start + offset));
        await withTransaction(db, (trx) => storeFindings(trx, "bf_bench", drafts, NOW));
      }
      const withFindingsMs = await reconcileMs("2026-03-02");
      const started = performance.now();
      const verified = await verifyReports(db.kysely);
      const verifyMs = Math.round(performance.now() - started);
      if (verified.problems.length > 0 || verified.findingsChecked !== findings) throw new Error(`${engine}: verify found ${verified.problems.length} problems over ${verified.findingsChecked} findings`);
      return { withoutFindingsMs, withFindingsMs, commitMsPerThousand: Math.round(((withFindingsMs - withoutFindingsMs) / findings) * 1000 * 10) / 10, verifyMs };
    } finally {
      await db.close();
    }
  } finally {
    await scratch.drop();
  }
}

const results: Record<string, unknown> = {};
for (const engine of engines) results[engine] = await benchEngine(engine);
const figures = { findings, engines: results };
if (findings === 50_000 || env.RECKON_BENCH_RECORD === "1") {
  recordBenchmark("report-findings", figures, [
    "A run commits to every provider finding stored since the previous run inside the chain's transaction (docs/decisions/provider-findings-in-report-chain.md): `withFindingsMs` is the run that commits to all of them, `withoutFindingsMs` one that commits to none, on an empty ledger.",
  ]);
} else {
  console.log(JSON.stringify({ benchmark: "report-findings", at: new Date().toISOString(), ...figures }));
}
