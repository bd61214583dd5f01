import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import { withTransaction } from "./withTransaction.js";

const NOW = new Date("2026-01-01T00:00:00Z");

describeEachEngine("ledger entries are append-only in the database", (db, engine) => {
  const entries = () => db().kysely.selectFrom("ledger_entries").select(["id", "uid", "amount", "idempotency_key"]).orderBy("id").execute();

  it("refuses a raw UPDATE and a raw DELETE and keeps the row", async () => {
    const posted = await withTransaction(db(), (trx) =>
      postEntry(trx, {
        uid: "u_append",
        kind: "purchase",
        amount: 50,
        idempotencyKey: "append-1",
        source: "test",
        now: NOW,
      }),
    );
    expect(posted.outcome).toBe("posted");

    await expect(sql`UPDATE ledger_entries SET amount = 5000`.execute(db().kysely)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM ledger_entries`.execute(db().kysely)).rejects.toThrow(/append-only/);
    if (engine === "postgres") {
      await expect(sql`TRUNCATE ledger_entries CASCADE`.execute(db().kysely)).rejects.toThrow(/append-only/);
    }

    const rows = await db().kysely.selectFrom("ledger_entries").select(["uid", "amount"]).execute();
    expect(rows).toEqual([{ uid: "u_append", amount: 50 }]);
  });

  it("refuses an insert that would replace or upsert an existing entry, by id or by idempotency key, and keeps it", async () => {
    const before = await entries();
    const [first] = before;
    const columns = sql.raw("uid, amount, kind, idempotency_key, reverses_entry_id, balance_after, source, content_hash, created_at");
    const forged = (key: string) => sql`${"u_append"}, ${999_999}, 'purchase', ${key}, NULL, ${999_999}, 'forged', 'forged', ${NOW.toISOString()}`;
    const attempts = [
      sql`INSERT INTO ledger_entries (id, ${columns}) VALUES (${first!.id}, ${forged("forged-by-id")})
        ON CONFLICT (id) DO UPDATE SET amount = excluded.amount`,
      sql`INSERT INTO ledger_entries (${columns}) VALUES (${forged(first!.idempotency_key)})
        ON CONFLICT (idempotency_key) DO UPDATE SET amount = excluded.amount`,
    ];
    if (engine === "sqlite") {
      attempts.push(
        sql`INSERT OR REPLACE INTO ledger_entries (id, ${columns}) VALUES (${first!.id}, ${forged("forged-by-id")})`,
        sql`REPLACE INTO ledger_entries (id, ${columns}) VALUES (${first!.id}, ${forged("forged-by-id")})`,
        sql`INSERT OR REPLACE INTO ledger_entries (${columns}) VALUES (${forged(first!.idempotency_key)})`,
        sql`REPLACE INTO ledger_entries (${columns}) VALUES (${forged(first!.idempotency_key)})`,
        sql`UPDATE OR REPLACE ledger_entries SET amount = 999999 WHERE id = ${first!.id}`,
      );
    } else {
      attempts.push(
        sql`MERGE INTO ledger_entries AS e USING (SELECT ${first!.id}::bigint AS id) AS s ON e.id = s.id
          WHEN MATCHED THEN UPDATE SET amount = 999999`,
        sql`MERGE INTO ledger_entries AS e USING (SELECT ${first!.id}::bigint AS id) AS s ON e.id = s.id
          WHEN MATCHED THEN DELETE`,
      );
    }
    for (const attempt of attempts) {
      await expect(attempt.execute(db().kysely), attempt.compile(db().kysely).sql).rejects.toThrow(/append-only/);
    }
    expect(await entries()).toEqual(before);
  });

  it("still appends new entries, through the ledger and by a plain insert", async () => {
    const before = await entries();
    const posted = await withTransaction(db(), (trx) =>
      postEntry(trx, { uid: "u_append", kind: "purchase", amount: 7, idempotencyKey: "append-2", source: "test", now: NOW }),
    );
    expect(posted.outcome).toBe("posted");
    await sql`INSERT INTO ledger_entries (uid, amount, kind, idempotency_key, balance_after, source, content_hash, created_at)
      VALUES ('u_append', 3, 'purchase', 'append-3', 60, 'raw', 'raw', ${NOW.toISOString()})`.execute(db().kysely);
    const after = await entries();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length).map((row) => [row.amount, row.idempotency_key])).toEqual([
      [7, "append-2"],
      [3, "append-3"],
    ]);
  });
});
