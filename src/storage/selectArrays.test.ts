import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { withTransaction } from "./withTransaction.js";

const AT = "2026-05-01T00:00:00.000Z";

describeEachEngine("selectArrays answers a read's rows as arrays of its columns", (db) => {
  const read = (after: string) =>
    sql`SELECT uid, points, version FROM wallets WHERE uid > ${after} ORDER BY uid`;

  it("in the order selected, with the values and row order Kysely's own read gives", async () => {
    await sql`INSERT INTO wallets (uid, points, version, created_at, updated_at)
      VALUES ('sa-b', 7, 2, ${AT}, ${AT}), ('sa-a', -3, 1, ${AT}, ${AT}), ('sa-c', 0, 5, ${AT}, ${AT})`.execute(db().kysely);
    const rows = await db().engine.selectArrays(db().kysely, read("sa-").compile(db().kysely));
    const viaKysely = await sql<Record<string, unknown>>`SELECT uid, points, version FROM wallets WHERE uid > ${"sa-"} ORDER BY uid`.execute(db().kysely);
    expect(rows.map(([uid, points, version]) => [uid, Number(points), Number(version)])).toEqual([
      ["sa-a", -3, 1],
      ["sa-b", 7, 2],
      ["sa-c", 0, 5],
    ]);
    expect(rows).toEqual(viaKysely.rows.map((row) => Object.values(row)));
  });

  it("inside a transaction, it sees that transaction's own writes", async () => {
    const seen = await withTransaction(db(), async (trx) => {
      await sql`INSERT INTO wallets (uid, points, version, created_at, updated_at) VALUES ('sb-a', 11, 1, ${AT}, ${AT})`.execute(trx);
      return db().engine.selectArrays(trx, read("sb-").compile(trx));
    });
    expect(seen.map(([uid, points]) => [uid, Number(points)])).toEqual([["sb-a", 11]]);
  });
});
