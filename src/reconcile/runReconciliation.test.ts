import { sql } from "kysely";
import { expect, it } from "vitest";
import { invariantViolations, describeEachEngine } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import type { HealPolicy } from "./planHeal.js";
import { runReconciliation } from "./runReconciliation.js";

const NOW = new Date("2026-03-10T02:00:00.000Z");
const now = () => NOW;

async function purchase(db: Db, uid: string, amount: number, key: string): Promise<void> {
  const result = await withTransaction(db, (trx) =>
    postEntry(trx, { uid, kind: "purchase", amount, idempotencyKey: key, source: "test", now: NOW }),
  );
  expect(result.outcome).toBe("posted");
}

/** Moves a wallet behind the ledger's back: the drift a bug or a manual edit would leave. */
async function plantDrift(db: Db, uid: string, drift: number): Promise<void> {
  await sql`UPDATE wallets SET points = points + ${drift} WHERE uid = ${uid}`.execute(db.kysely);
}

const DRIFTS: Record<string, number> = {
  p_small: 1,
  p_big: 999_999_999_999,
  n_small: -1,
  n_big: -123_456_789,
  n_below_zero: -5_000,
};

async function seed(db: Db, prefix: string): Promise<number> {
  for (let index = 0; index < 12; index++) await purchase(db, `${prefix}_ok_${index}`, 10 + index, `${prefix}-ok-${index}`);
  let planted = 0;
  for (const [name, drift] of Object.entries(DRIFTS)) {
    await purchase(db, `${prefix}_${name}`, 100, `${prefix}-${name}`);
    await plantDrift(db, `${prefix}_${name}`, drift);
    planted += drift;
  }
  return planted;
}

function request(date: string, policy: HealPolicy = "adjust_ledger") {
  return { date, policy, chunkUsers: 4, mode: "start" as const, now };
}

describeEachEngine("reconciliation finds and heals every drift", (db) => {
  it("adjust_ledger heals every planted drift by exactly its amount; a second run is clean", async () => {
    const planted = await seed(db(), "adj");
    const first = await runReconciliation(db(), request("2026-03-09"));
    if (first.outcome !== "completed") throw new Error(first.outcome);
    expect(first.run.violations).toBe(Object.keys(DRIFTS).length);
    expect(first.run.usersChecked).toBe(12 + Object.keys(DRIFTS).length);
    const adjustments = await db().kysely.selectFrom("ledger_entries").select(["uid", "amount"]).where("kind", "=", "reconcile_adjustment").execute();
    expect(adjustments.reduce((sum, entry) => sum + entry.amount, 0)).toBe(planted);
    expect(Object.fromEntries(adjustments.map((entry) => [entry.uid.replace("adj_", ""), entry.amount]))).toEqual(DRIFTS);
    expect(first.run.adjustmentAbsTotal).toBe(Object.values(DRIFTS).reduce((sum, drift) => sum + Math.abs(drift), 0));
    expect(await invariantViolations(db())).toEqual([]);

    const second = await runReconciliation(db(), request("2026-03-09"));
    if (second.outcome !== "completed") throw new Error(second.outcome);
    expect(second.run.violations).toBe(0);
    expect(second.run.previousChecksum).toBe(first.run.checksum);
  });

  it("wallets keep their balance under adjust_ledger: the ledger comes to explain it", async () => {
    await purchase(db(), "keep_me", 40, "keep-1");
    await plantDrift(db(), "keep_me", 7);
    await runReconciliation(db(), request("2026-03-08"));
    const wallet = await db().kysely.selectFrom("wallets").select("points").where("uid", "=", "keep_me").executeTakeFirstOrThrow();
    expect(wallet.points).toBe(47);
  });

  it("restore_wallet sets the wallet back to the ledger sum, audited, and writes no entry", async () => {
    await purchase(db(), "restore_me", 40, "restore-1");
    await plantDrift(db(), "restore_me", -15);
    const before = await db().kysely.selectFrom("ledger_entries").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    const result = await runReconciliation(db(), request("2026-03-07", "restore_wallet"));
    if (result.outcome !== "completed") throw new Error(result.outcome);
    const wallet = await db().kysely.selectFrom("wallets").select("points").where("uid", "=", "restore_me").executeTakeFirstOrThrow();
    expect(wallet.points).toBe(40);
    const after = await db().kysely.selectFrom("ledger_entries").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    const audit = await db().kysely.selectFrom("audit_log").selectAll().where("action", "=", "wallet.restore").where("subject", "=", "restore_me").execute();
    expect(audit).toHaveLength(1);
    const line = await db().kysely.selectFrom("reconciliation_user_reports").selectAll().where("run_id", "=", result.run.runId).where("uid", "=", "restore_me").executeTakeFirstOrThrow();
    expect([line.wallet_points, line.ledger_sum, line.delta, line.action]).toEqual([25, 40, -15, "restored"]);
  });

  it("report_only writes the drift in the report and changes no wallet or entry", async () => {
    await plantDrift(db(), "keep_me", 3);
    const result = await runReconciliation(db(), request("2026-03-06", "report_only"));
    if (result.outcome !== "completed") throw new Error(result.outcome);
    expect(result.run.violations).toBe(1);
    expect(result.run.adjustmentAbsTotal).toBe(0);
    expect(await invariantViolations(db())).toEqual([{ uid: "keep_me", points: 50, sum: 47 }]);
  });

  it("a heal happens at most once per date and user, even when the same drift comes back", async () => {
    await purchase(db(), "twice", 10, "twice-1");
    await plantDrift(db(), "twice", 5);
    await runReconciliation(db(), request("2026-03-05"));
    await plantDrift(db(), "twice", 5);
    const again = await runReconciliation(db(), request("2026-03-05"));
    if (again.outcome !== "completed") throw new Error(again.outcome);
    const entries = await db().kysely.selectFrom("ledger_entries").select("amount").where("uid", "=", "twice").where("kind", "=", "reconcile_adjustment").execute();
    expect(entries).toEqual([{ amount: 5 }]);
    const line = await db().kysely.selectFrom("reconciliation_user_reports").select(["action", "delta"]).where("run_id", "=", again.run.runId).where("uid", "=", "twice").executeTakeFirstOrThrow();
    expect(line).toEqual({ action: "already_healed", delta: 5 });
  });
});

describeEachEngine("a chunk with many drifted users", (db) => {
  it("reports every drifted user of a chunk larger than one heal read, each once, in user-id order", async () => {
    const users = 1_600;
    const at = NOW.toISOString();
    const uid = db().dialect === "postgres" ? sql`'many_' || lpad(n::text, 5, '0')` : sql`'many_' || printf('%05d', n)`;
    await sql`WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${users})
      INSERT INTO wallets (uid, points, version, created_at, updated_at) SELECT ${uid}, 10 + n % 4, 1, ${at}, ${at} FROM seq`.execute(db().kysely);
    await sql`INSERT INTO ledger_entries (uid, amount, kind, idempotency_key, balance_after, source, content_hash, created_at)
      SELECT uid, 10, 'purchase', 'many-' || uid, 10, 'test', 'planted', ${at} FROM wallets WHERE uid LIKE 'many%'`.execute(db().kysely);

    const result = await runReconciliation(db(), { date: "2026-03-01", policy: "report_only", chunkUsers: 5_000, mode: "start", now });

    if (result.outcome !== "completed") throw new Error(result.outcome);
    const lines = await db().kysely.selectFrom("reconciliation_user_reports").select(["uid", "delta", "action"]).where("run_id", "=", result.run.runId).where("uid", "like", "many%").orderBy("uid").execute();
    const expected = Array.from({ length: users }, (_, index) => index + 1).map((n) => {
      const delta = n % 4;
      return { uid: `many_${String(n).padStart(5, "0")}`, delta, action: delta === 0 ? "ok" : "reported" };
    });
    expect(lines).toEqual(expected);
  });
});
