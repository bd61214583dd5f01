import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import { withTransaction } from "./withTransaction.js";

describeEachEngine("ledger entries are append-only in the database", (db, engine) => {
  it("refuses a raw UPDATE and a raw DELETE and keeps the row", async () => {
    const posted = await withTransaction(db(), (trx) =>
      postEntry(trx, {
        uid: "u_append",
        kind: "purchase",
        amount: 50,
        idempotencyKey: "append-1",
        source: "test",
        now: new Date("2026-01-01T00:00:00Z"),
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
});
