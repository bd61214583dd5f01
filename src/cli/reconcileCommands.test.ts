import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { runReckon } from "../../test/support/runReckon.js";
import { storeFindings } from "../providerSync/storeFindings.js";
import { openDatabase } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";

const dir = mkdtempSync(join(tmpdir(), "reckon-cli-reports-"));
const url = `file:${join(dir, "cli.db")}`;
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const signingKeyFile = join(dir, "report-signing.pem");
const verifyKeyFile = join(dir, "report-verify.pem");
writeFileSync(signingKeyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
writeFileSync(verifyKeyFile, publicKey.export({ type: "spki", format: "pem" }));
const anchorFile = join(dir, "anchor.jsonl");

const reckon = (args: string[], env: Record<string, string> = {}) => runReckon(args, { DATABASE_URL: url, LOG_LEVEL: "info", ...env });
const signing = { REPORT_SIGNING_KEY_FILE: signingKeyFile, REPORT_ANCHOR_FILE: anchorFile };
const verifying = { REPORT_VERIFY_KEY_FILE: verifyKeyFile, REPORT_ANCHOR_FILE: anchorFile };

describe("reckon reconcile and reckon reports verify [sqlite]", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a reconcile with a signing key logs the signed head and anchors it", async () => {
    for (const date of ["2026-01-01", "2026-01-02"]) {
      const result = await reckon(["reconcile", "--date", date], signing);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ outcome: "completed", head: { date, signed: true, anchor: "anchored" } });
      expect(result.stderr).toContain("report chain head");
    }
  });

  it("verify exits 0 only when the chain verifies against the public key and the anchor", async () => {
    const verified = await reckon(["reports", "verify"], verifying);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ verdict: "verified", ok: true, head: { position: 2, date: "2026-01-02" } });
  });

  it("verify without a key exits 2 and says the chain is unsigned, not ok", async () => {
    const unsigned = await reckon(["reports", "verify"]);
    expect(unsigned.code).toBe(2);
    expect(JSON.parse(unsigned.stdout)).toMatchObject({ verdict: "unsigned", ok: false, problems: 0 });
    expect(unsigned.stderr).toContain("unsigned and unanchored");
  });

  it("verify names a deleted newest run and exits 1", async () => {
    const db = openDatabase(url);
    try {
      const newest = await db.kysely.selectFrom("reconciliation_runs").select("id").where("chain_position", "=", 2).executeTakeFirstOrThrow();
      await sql`DELETE FROM reconciliation_user_reports WHERE run_id = ${newest.id}`.execute(db.kysely);
      await sql`DELETE FROM reconciliation_chunks WHERE run_id = ${newest.id}`.execute(db.kysely);
      await sql`DELETE FROM reconciliation_heals WHERE run_id = ${newest.id}`.execute(db.kysely);
      await sql`DELETE FROM reconciliation_runs WHERE id = ${newest.id}`.execute(db.kysely);
    } finally {
      await db.close();
    }
    const truncated = await reckon(["reports", "verify"], verifying);
    expect(truncated.code).toBe(1);
    expect(JSON.parse(truncated.stdout)).toMatchObject({ verdict: "failed", problems: 1 });
    expect(truncated.stderr).toContain("the anchor records chain position 2 (2026-01-02) but the database ends at 1: runs were deleted");
  });
});

describe("reckon reports verify covers the provider findings each run committed to [sqlite]", () => {
  const findingsUrl = `file:${join(dir, "cli-findings.db")}`;
  const run = (args: string[]) => runReckon(args, { DATABASE_URL: findingsUrl, LOG_LEVEL: "info" });

  it("a finding edited after its run makes verify exit 1, naming the finding and its run", async () => {
    expect((await run(["migrate"])).code).toBe(0);
    const db = openDatabase(findingsUrl);
    try {
      const draft = { provider: "paynow" as const, kind: "paid_not_credited" as const, subject: "paynow:order:77", status: "open" as const, date: "2026-02-01", uid: null, amountMinor: 900, detail: {} };
      await withTransaction(db, (trx) => storeFindings(trx, "bf_cli", [draft], new Date("2026-02-02T01:00:00.000Z")));
    } finally {
      await db.close();
    }
    expect((await run(["reconcile", "--date", "2026-02-02"])).code).toBe(0);
    const clean = await run(["reports", "verify"]);
    expect([clean.code, JSON.parse(clean.stdout)]).toEqual([2, expect.objectContaining({ verdict: "unsigned", problems: 0, findingsChecked: 1 })]);
    expect((await run(["reports", "verify", "--human"])).stdout).toContain("checked 1 run, 0 lines and 1 provider finding");

    const edit = openDatabase(findingsUrl);
    let id: string;
    try {
      id = (await edit.kysely.selectFrom("provider_findings").select("id").executeTakeFirstOrThrow()).id;
      await sql`UPDATE provider_findings SET amount_minor = 1 WHERE id = ${id}`.execute(edit.kysely);
    } finally {
      await edit.close();
    }
    const tampered = await run(["reports", "verify"]);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toMatchObject({ verdict: "failed", problems: 2 });
    expect(tampered.stderr).toContain(`2026-02-02: provider finding ${id} was altered (run 1)`);
  });
});
