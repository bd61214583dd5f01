import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";
import type { ReportSettings } from "./publishChainHead.js";
import { appendAnchor, readAnchor } from "./reportAnchor.js";
import type { ReportProblem } from "./reportProblems.js";
import { headSignatureValid, signHead } from "./reportSigning.js";
import { verifyReports } from "./verifyReports.js";

export type SignChainOutcome =
  | { outcome: "signed"; signed: number; anchored: number }
  /** REPORT_SIGNING_KEY_FILE is not set. */
  | { outcome: "no_signing_key" }
  /** The chain is not intact without signatures; nothing was signed (sign only what verifies). */
  | { outcome: "chain_has_problems"; problems: ReportProblem[] };

/**
 * Adopts signing on a chain completed before a key was configured (or by an instance
 * without one): checks every run's lines, figures, checksum and links, and only if all
 * hold, signs each run that has no signature and appends the runs the anchor file does
 * not have yet. What is signed is only as trustworthy as the database at this moment:
 * run it once, when adopting the key, after reading the verify output.
 */
export async function signChain(db: Kysely<Schema>, settings: ReportSettings): Promise<SignChainOutcome> {
  const signingKey = settings.keys.signingKey;
  if (signingKey === null) return { outcome: "no_signing_key" };
  const anchor = settings.anchorFile === null ? null : await readAnchor(settings.anchorFile);
  // An anchor that exists must agree with the chain; one that does not yet is started here.
  const checked = await verifyReports(db, anchor?.state === "read" ? { anchorFile: settings.anchorFile } : {});
  if (checked.problems.length > 0) return { outcome: "chain_has_problems", problems: checked.problems };
  const runs = await db
    .selectFrom("reconciliation_runs")
    .select(["id", "run_date", "chain_position", "checksum", "signature"])
    .where("chain_position", "is not", null)
    .orderBy("chain_position")
    .execute();
  const heads = runs.map((run) => ({ runId: run.id, signature: run.signature, head: { position: Number(run.chain_position), date: run.run_date, checksum: run.checksum ?? "" } }));
  // A signature made with another key is not replaced: it is a problem to look into first.
  const verifyKey = settings.keys.verifyKey ?? signingKey;
  const foreign = heads.filter((run) => run.signature !== null && !headSignatureValid(verifyKey, run.head, run.signature));
  if (foreign.length > 0) {
    return {
      outcome: "chain_has_problems",
      problems: foreign.map((run) => ({ problem: "signature_mismatch", date: run.head.date, runId: run.runId, chainPosition: run.head.position })),
    };
  }
  const anchoredUpTo = anchor?.state === "read" ? Math.max(0, ...anchor.lines.map((line) => line.position)) : 0;
  let signed = 0;
  let anchored = 0;
  for (const run of heads) {
    let signature = run.signature;
    if (signature === null) {
      signature = signHead(signingKey, run.head);
      await db.updateTable("reconciliation_runs").set({ signature }).where("id", "=", run.runId).where("signature", "is", null).execute();
      signed += 1;
    }
    if (settings.anchorFile !== null && run.head.position > anchoredUpTo) {
      await appendAnchor(settings.anchorFile, { ...run.head, signature });
      anchored += 1;
    }
  }
  return { outcome: "signed", signed, anchored };
}
