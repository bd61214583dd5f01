import { createHash, hash } from "node:crypto";
import type { RefusalReason } from "./planHeal.js";

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
  /** Set on `refused` lines only. */
  reason: RefusalReason | null;
  detail: string | null;
}

export const LINE_ACTIONS = ["ok", "reported", "adjusted", "restored", "already_healed", "refused"] as const;
export type LineAction = (typeof LINE_ACTIONS)[number];

/**
 * SHA-256 of the line's canonical form (`lineCanonicalForm.ts`): the JSON array
 * `[runDate, uid, walletPoints, ledgerSum, ledgerCount, delta, action,
 * adjustmentEntryId]`, with `reason, detail` appended when the line has a reason (so
 * lines written before refusals existed keep their hash). The text is assembled by hand
 * and hashed one-shot: a run hashes one line per user, so this is on the hot path;
 * `lineCanonicalForm.test.ts` holds it to the form's definition, field by field.
 */
export function lineHash(runDate: string, line: ReportLine): string {
  const refusal = line.reason === null ? "" : "," + JSON.stringify(line.reason) + "," + JSON.stringify(line.detail);
  const text =
    "[" + JSON.stringify(runDate) + "," + JSON.stringify(line.uid) + "," + line.walletPoints + "," + line.ledgerSum + "," +
    line.ledgerCount + "," + line.delta + "," + JSON.stringify(line.action) + "," +
    (line.adjustmentEntryId === null ? "null" : line.adjustmentEntryId) + refusal + "]";
  return hash("sha256", text, "hex");
}

/**
 * `lineHash` of the `ok` lines of one run (delta 0, no adjustment, no reason), with the
 * parts every such line shares written once: the sweep hashes one line per user in
 * balance. `lineCanonicalForm.test.ts` holds it equal to `lineHash`.
 */
export function okLineHasher(runDate: string): (uid: string, points: number, count: number) => string {
  const head = "[" + JSON.stringify(runDate) + ",";
  return (uid, points, count) => hash("sha256", head + JSON.stringify(uid) + "," + points + "," + points + "," + count + ',0,"ok",null]', "hex");
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

/** What a run's checksum covers besides its predecessor and its lines. */
export interface RunFigures {
  runDate: string;
  healPolicy: string;
  usersChecked: number;
  violations: number;
  adjustmentAbsTotal: number;
  /** Covered from checksum version 2 on, with everything below. */
  refused: number;
  chainPosition: number;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  /** Covered from checksum version 3 on: the provider findings the run committed to (`reportFindings.ts`). */
  findings?: { count: number; digest: string | null };
}

/** The formula new runs use; versions 1 and 2 are kept to verify runs completed before it. */
export const CHECKSUM_VERSION = 3;

/**
 * The chain link: the previous run's checksum (empty for the first run) and this run's
 * content. Version 2 also covers the run's position in the chain, its status, its
 * times and its refusals, so none of them can be edited unnoticed; version 1 did not.
 * Version 3 also covers the count and digest of the provider findings the run
 * committed to; a version 3 run without them has the count 0 and no digest.
 */
export function runChecksum(version: number, previousChecksum: string | null, figures: RunFigures, linesDigest: string): string {
  const common = [figures.runDate, figures.healPolicy, figures.usersChecked, figures.violations, figures.adjustmentAbsTotal];
  const v2 = [`v${version}`, previousChecksum ?? "", figures.chainPosition, ...common, figures.refused, figures.status, figures.startedAt, figures.finishedAt, linesDigest];
  const content =
    version === 1
      ? [previousChecksum ?? "", ...common, linesDigest]
      : version === 2
        ? v2
        : [...v2, figures.findings?.count ?? 0, figures.findings?.digest ?? null];
  return createHash("sha256").update(JSON.stringify(content)).digest("hex");
}

/** Whether a line counts as a violation, a refusal, and how many points its heal moved. */
export function lineTotals(line: Pick<ReportLine, "delta" | "action">): { violation: number; refused: number; adjusted: number } {
  const healed = line.action === "adjusted" || line.action === "restored";
  const refused = line.action === "refused" ? 1 : 0;
  // A refused line is a wallet the run could not reconcile, even one past the exact range that stores delta 0.
  return { violation: line.delta !== 0 || refused === 1 ? 1 : 0, refused, adjusted: healed ? Math.abs(line.delta) : 0 };
}
