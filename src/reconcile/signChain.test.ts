import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import { withTransaction } from "../storage/withTransaction.js";
import { runReconciliation } from "./runReconciliation.js";
import { signChain } from "./signChain.js";
import { verifyReports } from "./verifyReports.js";

const NOW = new Date("2026-12-03T03:00:00.000Z");
const now = () => NOW;
const dir = mkdtempSync(join(tmpdir(), "reckon-sign-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { privateKey, publicKey } = generateKeyPairSync("ed25519");

describeEachEngine("adopting a signing key signs the chain that verifies, and nothing else", (db, engine) => {
  const settings = { keys: { signingKey: privateKey, verifyKey: publicKey }, anchorFile: join(dir, `anchor-${engine}.jsonl`) };

  it("runs chained before a key was configured verify once reports sign has signed and anchored them", async () => {
    await withTransaction(db(), (trx) => postEntry(trx, { uid: "s1", kind: "purchase", amount: 9, idempotencyKey: "sign-s1", source: "test", now: NOW }));
    for (const date of ["2026-12-01", "2026-12-02"]) await runReconciliation(db(), { date, policy: "adjust_ledger", chunkUsers: 10, mode: "start", now });
    const before = await verifyReports(db().kysely, { verifyKey: publicKey, anchorFile: settings.anchorFile });
    expect(before.problems.map((problem) => problem.problem)).toEqual(["signature_missing", "signature_missing", "anchor_missing"]);

    expect(await signChain(db().kysely, settings)).toEqual({ outcome: "signed", signed: 2, anchored: 2 });

    expect(await verifyReports(db().kysely, { verifyKey: publicKey, anchorFile: settings.anchorFile })).toMatchObject({ verdict: "verified", problems: [] });
    expect(await signChain(db().kysely, settings)).toEqual({ outcome: "signed", signed: 0, anchored: 0 });
  });

  it("a chain with an altered line is not signed", async () => {
    await runReconciliation(db(), { date: "2026-12-03", policy: "adjust_ledger", chunkUsers: 10, mode: "start", now });
    const newest = await db().kysely.selectFrom("reconciliation_runs").select(["id", "signature"]).where("run_date", "=", "2026-12-03").executeTakeFirstOrThrow();
    await sql`UPDATE reconciliation_user_reports SET wallet_points = wallet_points + 1 WHERE run_id = ${newest.id}`.execute(db().kysely);

    const outcome = await signChain(db().kysely, settings);

    expect(outcome).toMatchObject({ outcome: "chain_has_problems" });
    const after = await db().kysely.selectFrom("reconciliation_runs").select("signature").where("id", "=", newest.id).executeTakeFirstOrThrow();
    expect(after.signature).toBeNull();
  });
});
