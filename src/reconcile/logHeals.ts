import type { HealRun } from "./healUser.js";
import type { ReportLine } from "./reportHashes.js";

/** The part of a pino logger heals are logged through. */
export interface HealLogger {
  info(fields: object, message: string): void;
}

/** What a line's heal left: the ledger moved to the wallet (adjusted), the wallet to the ledger (restored), or nothing. */
function afterOf(line: ReportLine): { walletPoints: number; ledgerSum: number } {
  switch (line.action) {
    case "adjusted":
      return { walletPoints: line.walletPoints, ledgerSum: line.ledgerSum + line.delta };
    case "restored":
      return { walletPoints: line.ledgerSum, ledgerSum: line.ledgerSum };
    case "ok":
    case "reported":
    case "already_healed":
    case "refused":
      return { walletPoints: line.walletPoints, ledgerSum: line.ledgerSum };
    default: {
      const never: never = line.action;
      throw new Error(`unhandled line action ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Logs one line per drifted user of a committed heal transaction: what the run read
 * (`before`), what the heal left (`after`), and the entry it wrote. Called after the
 * commit, so a heal transaction that was rolled back and retried logs once.
 */
export function logHeals(logger: HealLogger, run: HealRun, requestId: string | null, lines: readonly ReportLine[]): void {
  for (const line of lines) {
    logger.info(
      {
        event: "reconciliation_heal",
        runId: run.runId,
        runDate: run.date,
        healPolicy: run.policy,
        migrationId: null,
        eventId: null,
        requestId,
        uid: line.uid,
        action: line.action,
        delta: line.delta,
        before: { walletPoints: line.walletPoints, ledgerSum: line.ledgerSum },
        after: afterOf(line),
        adjustmentEntryId: line.adjustmentEntryId,
        reason: line.reason,
      },
      "reconciliation heal",
    );
  }
}
