import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import type { PostEntryInput } from "../ledger/postEntry.js";
import type { Db } from "./openDatabase.js";
import { withTransaction } from "./withTransaction.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");

async function posted(db: Db, input: Omit<PostEntryInput, "source" | "now">): Promise<number> {
  const outcome = await withTransaction(db, (trx) => postEntry(trx, { ...input, source: "test", now: NOW }));
  if (outcome.outcome !== "posted") throw new Error(`expected posted, got ${outcome.outcome}`);
  return outcome.entry.id;
}

/** A raw insert, as any tool with a connection could write it, bypassing the ledger's code. */
function rawEntry(db: Db, values: { uid: string; amount: number; kind: string; key: string; reverses: number | null; balanceAfter?: number }) {
  return sql`INSERT INTO ledger_entries (uid, amount, kind, idempotency_key, reverses_entry_id, balance_after, source, content_hash, created_at)
    VALUES (${values.uid}, ${values.amount}, ${values.kind}, ${values.key}, ${values.reverses}, ${values.balanceAfter ?? 0}, 'raw', 'raw', ${NOW.toISOString()})`.execute(db.kysely);
}

describeEachEngine("the schema holds the ledger's reference rules", (db) => {
  it("refuses a raw reversal of a reconciliation heal, and accepts a raw reversal of a purchase", async () => {
    const purchase = await posted(db(), { uid: "guard_ref", kind: "purchase", amount: 30, idempotencyKey: "guard-ref-buy" });
    const heal = await posted(db(), { uid: "guard_ref", kind: "reconcile_adjustment", amount: 4, idempotencyKey: "guard-ref-heal" });
    await posted(db(), { uid: "guard_other", kind: "purchase", amount: 30, idempotencyKey: "guard-other-buy" });
    await expect(rawEntry(db(), { uid: "guard_ref", amount: -4, kind: "reversal", key: "guard-ref-r1", reverses: heal })).rejects.toThrow(
      /may not reference/,
    );
    await expect(rawEntry(db(), { uid: "guard_other", amount: -4, kind: "reversal", key: "guard-ref-r2", reverses: purchase })).rejects.toThrow(
      /may not reference/,
    );
    await expect(rawEntry(db(), { uid: "guard_ref", amount: 4, kind: "reinstatement", key: "guard-ref-r3", reverses: purchase })).rejects.toThrow(
      /may not reference/,
    );
    await rawEntry(db(), { uid: "guard_ref", amount: -4, kind: "reversal", key: "guard-ref-r4", reverses: purchase });
    const keys = await db().kysely.selectFrom("ledger_entries").select("idempotency_key").where("uid", "=", "guard_ref").orderBy("id").execute();
    expect(keys.map((row) => row.idempotency_key)).toEqual(["guard-ref-buy", "guard-ref-heal", "guard-ref-r4"]);
  });
});

/** SQLite's trigger messages and PostgreSQL's constraint names. */
const OUT_OF_RANGE = /within ±|_in_range/;

describeEachEngine("the schema holds balances and entries inside the exact range", (db) => {
  it("refuses a wallet beyond ±10^15 and an entry beyond ±10^12 or zero, and accepts the bounds themselves", async () => {
    const at = NOW.toISOString();
    const bound = 10 ** 15;
    await db().kysely.insertInto("wallets").values({ uid: "guard_range", points: bound, version: 1, created_at: at, updated_at: at }).execute();
    await expect(
      db().kysely.insertInto("wallets").values({ uid: "guard_range_2", points: bound + 1, version: 1, created_at: at, updated_at: at }).execute(),
    ).rejects.toThrow(OUT_OF_RANGE);
    await expect(db().kysely.updateTable("wallets").set({ points: -bound - 1 }).where("uid", "=", "guard_range").execute()).rejects.toThrow(OUT_OF_RANGE);
    await db().kysely.updateTable("wallets").set({ points: -bound }).where("uid", "=", "guard_range").execute();

    const entry = (key: string, amount: number, balanceAfter: number) => rawEntry(db(), { uid: "guard_range", amount, kind: "admin_adjustment", key, reverses: null, balanceAfter });
    await expect(entry("guard-range-1", 10 ** 12 + 1, 0)).rejects.toThrow(OUT_OF_RANGE);
    await expect(entry("guard-range-2", -(10 ** 12) - 1, 0)).rejects.toThrow(OUT_OF_RANGE);
    await expect(entry("guard-range-3", 0, 0)).rejects.toThrow(OUT_OF_RANGE);
    await expect(entry("guard-range-4", 5, bound + 1)).rejects.toThrow(OUT_OF_RANGE);
    await entry("guard-range-5", 10 ** 12, -bound);
    await entry("guard-range-6", -(10 ** 12), bound);
    const rows = await db().kysely.selectFrom("ledger_entries").select(["idempotency_key"]).where("uid", "=", "guard_range").orderBy("id").execute();
    expect(rows.map((row) => row.idempotency_key)).toEqual(["guard-range-5", "guard-range-6"]);
    const wallet = await db().kysely.selectFrom("wallets").select("points").where("uid", "=", "guard_range").executeTakeFirstOrThrow();
    expect(wallet.points).toBe(-bound);
  });
});
