import { createHash, hash } from "node:crypto";

/**
 * The tamper evidence of reports. Each user line has a SHA-256 over its fields and
 * its run's date; the run checksum is a SHA-256 over the previous run's checksum,
 * the run's own figures and the digest of its line hashes in user-id order, so
 * completed runs form a chain and editing any line or run row shows on verify.
 */

/** What a report says about one user. `action` is one of `LINE_ACTIONS`. */
export interface ReportLine {
  uid: string;
  walletPoints: number;
  ledgerSum: number;
  ledgerCount: number;
  delta: number;
  action: LineAction;
  adjustmentEntryId: number | null;
}

export const LINE_ACTIONS = ["ok", "reported", "adjusted", "restored", "already_healed"] as const;
export type LineAction = (typeof LINE_ACTIONS)[number];

/**
 * SHA-256 of the line as the JSON array `[runDate, uid, walletPoints, ledgerSum,
 * ledgerCount, delta, action, adjustmentEntryId]`. The text is assembled by hand (the
 * same bytes `JSON.stringify` gives for that array, since every number is an integer)
 * and hashed one-shot: a run hashes one line per user, so this is on the hot path.
 */
export function lineHash(runDate: string, line: ReportLine): string {
  const text =
    "[" + JSON.stringify(runDate) + "," + JSON.stringify(line.uid) + "," + line.walletPoints + "," + line.ledgerSum + "," +
    line.ledgerCount + "," + line.delta + "," + JSON.stringify(line.action) + "," +
    (line.adjustmentEntryId === null ? "null" : line.adjustmentEntryId) + "]";
  return hash("sha256", text, "hex");
}

/** Folds line hashes, fed in user-id order, into one digest without holding them. */
export class LinesDigest {
  readonly #hash = createHash("sha256");
  add(lineHashHex: string): void {
    this.#hash.update(lineHashHex);
  }
  hex(): string {
    return this.#hash.digest("hex");
  }
}

export interface RunFigures {
  runDate: string;
  healPolicy: string;
  usersChecked: number;
  violations: number;
  adjustmentAbsTotal: number;
}

/** The chain link: the previous run's checksum (empty for the first run) and this run's content. */
export function runChecksum(previousChecksum: string | null, figures: RunFigures, linesDigest: string): string {
  return createHash("sha256")
    .update(
      JSON.stringify([
        previousChecksum ?? "",
        figures.runDate,
        figures.healPolicy,
        figures.usersChecked,
        figures.violations,
        figures.adjustmentAbsTotal,
        linesDigest,
      ]),
    )
    .digest("hex");
}

/** Whether a line counts as a violation and how many points its heal moved. */
export function lineTotals(line: Pick<ReportLine, "delta" | "action">): { violation: number; adjusted: number } {
  const healed = line.action === "adjusted" || line.action === "restored";
  return { violation: line.delta === 0 ? 0 : 1, adjusted: healed ? Math.abs(line.delta) : 0 };
}
