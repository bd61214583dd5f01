import { randomBytes } from "node:crypto";
import { setCatalogueProduct } from "../../src/catalogue/setCatalogueProduct.js";
import type { Db } from "../../src/storage/openDatabase.js";
import { runOpenLoop, startServer, stopServer, type Answer } from "../../bench/openLoop.js";
import { auditIngest, LOAD_POINTS_PER_UNIT, LOAD_PRODUCT, PaynowLoad, type IngestAudit } from "../../bench/paynowLoad.js";

export interface CrashOptions {
  /** A migrated database; the server under test opens it by `url`. */
  db: Db;
  url: string;
  kills: number;
  ratePerSecond: number;
  /**
   * Each cycle is killed at a random moment between half and all of this, once at
   * least `minAckedPerCycle` deliveries were ACKed; it keeps sending until the kill.
   */
  cycleMs: number;
  minAckedPerCycle?: number;
  log?: (line: string) => void;
}

export interface CrashResult {
  kills: number;
  sent: number;
  acked: number;
  unanswered: number;
  audit: IngestAudit;
}

/**
 * Starts the real server, sends signed PayNow deliveries (10% repeats, as provider
 * retries), SIGKILLs it mid-flow, and does it again `kills` times on the same
 * database. Then audits: every ACKed delivery stored and applied exactly once.
 */
export async function runCrashCycles(options: CrashOptions): Promise<CrashResult> {
  await setCatalogueProduct(options.db, {
    provider: "paynow",
    productId: LOAD_PRODUCT,
    pointsPerUnit: LOAD_POINTS_PER_UNIT,
    actor: "crash-test",
    now: new Date(),
  });
  const secrets = [randomBytes(24).toString("hex")];
  const env = { DATABASE_URL: options.url, PAYNOW_WEBHOOK_SECRETS: secrets.join(","), ENVIRONMENT: "test" };
  const load = new PaynowLoad(secrets);
  const answers: Answer[] = [];
  let sent = 0;
  let unanswered = 0;
  let offset = 0;
  for (let cycle = 1; cycle <= options.kills; cycle++) {
    const { child, port } = await startServer("reckon", env);
    const startedAt = performance.now();
    const killAtMs = options.cycleMs / 2 + Math.random() * (options.cycleMs / 2);
    let ackedInCycle = 0;
    let killed = false;
    let killedAtMs = 0;
    const base = offset;
    const result = await runOpenLoop({
      port,
      ratePerSecond: options.ratePerSecond,
      // Long enough never to end before the kill: sending stops at the kill.
      durationMs: 120_000,
      shot: (index) => load.shot(base + index),
      timeoutMs: 5_000,
      onAnswer: (answer) => {
        if (answer.status === 200) ackedInCycle++;
      },
      shouldStop: () => {
        const elapsedMs = performance.now() - startedAt;
        const ready = elapsedMs >= killAtMs && ackedInCycle >= (options.minAckedPerCycle ?? 20);
        // A server that never answers is killed too, so a cycle is bounded.
        if (!killed && (ready || elapsedMs > 30_000)) {
          killed = child.kill("SIGKILL");
          killedAtMs = elapsedMs;
        }
        return killed;
      },
    });
    await stopServer(child, "SIGKILL");
    offset += result.sent;
    sent += result.sent;
    unanswered += result.errors;
    answers.push(...result.answers);
    options.log?.(`cycle ${cycle}: killed at ${Math.round(killedAtMs)} ms, ${result.answers.filter((a) => a.status === 200).length} ACKed, ${result.errors} unanswered`);
  }
  // One clean start after the last kill: the server must come up on what the kills left.
  const { child } = await startServer("reckon", env);
  await stopServer(child);
  const audit = await auditIngest(options.db, load, answers);
  return { kills: options.kills, sent, acked: audit.ackedEvents, unanswered, audit };
}
