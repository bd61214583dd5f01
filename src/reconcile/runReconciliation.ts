import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Db } from "../storage/openDatabase.js";
import { claimChunk } from "./claimChunk.js";
import { finalizeRun } from "./finalizeRun.js";
import { logHeals } from "./logHeals.js";
import { markStoredStateChanged } from "../ops/storedStateChanged.js";
import { openRun } from "./openRun.js";
import type { HealPolicy } from "./planHeal.js";
import { publishChainHead, type AnchorOutcome, type ChainLogger, type ReportSettings } from "./publishChainHead.js";
import { NO_REPORT_KEYS, type ChainHead } from "./reportSigning.js";
import { readRun, type RunSummary } from "./readReports.js";
import { sweepChunk } from "./sweepChunk.js";
import { SweepFold } from "./sweepFold.js";

export interface ReconcileRequest {
  date: string;
  policy: HealPolicy;
  chunkUsers: number;
  /** `start` answers `in_progress` if the date is being reconciled; `join` shares the work. */
  mode: "start" | "join";
  now: () => Date;
  /** Who claims chunks; unique per process by default. */
  holder?: string;
  onProgress?: (progress: SweepProgress) => void;
  /** Chunks this process sweeps at once; the engine's `sweepConcurrency` by default. */
  concurrency?: number;
  /** Signing key and anchor file; without them runs are chained but neither signed nor anchored. */
  reports?: ReportSettings;
  /** Where the new chain head and each heal are logged. */
  logger?: ChainLogger;
  /** The request that started this process's part of the run, for the log lines. */
  requestId?: string;
}

/** What this process has swept so far, after each chunk. */
export interface SweepProgress {
  chunksDone: number;
  chunksTotal: number;
  /** Users this process checked; a joined run shares the rest with other processes. */
  usersChecked: number;
  /** The wallets as the run started, for a progress bar; wallets created meanwhile are checked too. */
  usersTotal: number;
}

/** The head this process added to the report chain, and whether it reached the anchor file. */
export interface PublishedHead extends ChainHead {
  signed: boolean;
  anchor: AnchorOutcome;
}

export type ReconcileOutcome =
  /** 200: the run is complete (this process may have shared it with others). */
  | { outcome: "completed"; run: RunSummary; head: PublishedHead | null }
  /** 200: this process is done with its chunks; another one is finishing the run. */
  | { outcome: "shared"; run: RunSummary }
  /** 409: a run for the date is already in progress. */
  | { outcome: "in_progress"; runId: number };

export function processHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

/** Reconciles every wallet for a date: claims chunks until none remain, then completes the run. */
export async function runReconciliation(db: Db, request: ReconcileRequest): Promise<ReconcileOutcome> {
  const opened = await openRun(db, { date: request.date, policy: request.policy, chunkUsers: request.chunkUsers, mode: request.mode, now: request.now() });
  if (opened.outcome === "in_progress") return opened;
  const runId = opened.runId;
  const holder = request.holder ?? processHolder();
  const started = await readRun(db.kysely, runId);
  // A joiner follows the policy the run was opened with, so one run has one policy.
  const run = { runId, date: request.date, policy: started.healPolicy as HealPolicy };
  try {
    const total = await db.kysely
      .selectFrom("reconciliation_chunks")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("run_id", "=", runId)
      .executeTakeFirstOrThrow();
    // Counted only for whoever shows progress: one more read of the wallets' index.
    const usersTotal = request.onProgress
      ? Number((await db.kysely.selectFrom("wallets").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n)
      : 0;
    let chunksDone = 0;
    let usersChecked = 0;
    const concurrency = request.concurrency ?? db.engine.sweepConcurrency;
    // One sweeper takes chunks in order; several would finish them out of order.
    const fold = concurrency === 1 ? new SweepFold() : null;
    const sweeper = async () => {
      for (;;) {
        const chunk = await claimChunk(db, runId, holder, request.now());
        if (!chunk) return;
        const result = await sweepChunk(db, run, chunk, holder, request.now);
        fold?.add(chunk, result.kept, result.lines);
        if (request.logger) logHeals(request.logger, run, request.requestId ?? null, result.healed);
        chunksDone += 1;
        usersChecked += result.usersChecked;
        request.onProgress?.({ chunksDone, chunksTotal: Number(total.n), usersChecked, usersTotal });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, sweeper));
    const settings = request.reports ?? { keys: NO_REPORT_KEYS, anchorFile: null };
    const finalized = await finalizeRun(db, runId, request.now, settings.keys.signingKey, fold?.summary(Number(total.n)) ?? null);
    const summary = await readRun(db.kysely, runId);
    if (finalized.outcome === "others_working") return { outcome: "shared", run: summary };
    markStoredStateChanged();
    if (finalized.outcome === "already_completed") return { outcome: "completed", run: summary, head: null };
    const { signature, ...head } = finalized.head;
    const anchor = await publishChainHead(finalized.head, settings, request.logger);
    return { outcome: "completed", run: summary, head: { ...head, signed: signature !== null, anchor } };
  } catch (error) {
    await db.kysely
      .updateTable("reconciliation_runs")
      .set({ status: "failed", error: String((error as Error).message).slice(0, 500), finished_at: request.now().toISOString() })
      .where("id", "=", runId)
      .where("status", "in", ["running", "finalizing"])
      .execute()
      .catch(() => undefined);
    throw error;
  }
}
