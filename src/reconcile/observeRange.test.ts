import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { claimChunk } from "./claimChunk.js";
import { observeRange } from "./observeRange.js";
import { openRun } from "./openRun.js";
import { toLine } from "./summarizeLines.js";
import { lineHash } from "./reportHashes.js";

const NOW = new Date("2026-03-10T02:00:00.000Z");

/** User ids whose JSON text needs escapes, or is not ASCII: the SQL hash must quote them as `JSON.stringify` does. */
const AWKWARD_UIDS = ['quote"d', "back\\slash", "tab\there", "line\nfeed", "ctl\u0001\u001f", "é漢字🙂", "slash/ok", "del\u007f", "sep\u2028"];

async function credit(db: Db, uid: string, amount: number, key: string): Promise<void> {
  const posted = await withTransaction(db, (trx) => postEntry(trx, { uid, kind: "purchase", amount, idempotencyKey: key, source: "test", now: NOW }));
  expect(posted.outcome).toBe("posted");
}

async function openAndClaim(db: Db, date: string) {
  const opened = await openRun(db, { date, policy: "report_only", chunkUsers: 1000, mode: "start", now: NOW });
  if (opened.outcome !== "opened") throw new Error(opened.outcome);
  const chunk = await claimChunk(db, opened.runId, "tester", NOW);
  if (!chunk) throw new Error("no chunk");
  return { runId: opened.runId, chunk };
}

describeEachEngine("observing a chunk writes the lines of users in balance", (db, engine) => {
  it("every written line carries the hash lineHash gives, whatever the user id and amounts", async () => {
    for (const [index, uid] of AWKWARD_UIDS.entries()) await credit(db(), uid, 1 + index, `awkward-${index}`);
    await credit(db(), "big", 999_999_999_999, "big-1");
    await credit(db(), "big", 999_999_999_999, "big-2");
    await credit(db(), "drifted", 10, "drifted");
    await sql`UPDATE wallets SET points = points + 3 WHERE uid = 'drifted'`.execute(db().kysely);

    const { runId, chunk } = await openAndClaim(db(), "2026-03-09");
    const observed = await observeRange(db(), { runId, date: "2026-03-09", chunk, holder: "tester" });

    expect(observed.kept).toBe(true);
    expect(observed.usersChecked).toBe(AWKWARD_UIDS.length + 2);
    expect(observed.drifted).toEqual(["drifted"]);
    const lines = await db().kysely.selectFrom("reconciliation_user_reports").selectAll().where("run_id", "=", runId).orderBy("uid").execute();
    expect(lines.map((row) => row.uid).sort()).toEqual([...AWKWARD_UIDS, "big"].sort());
    for (const row of lines) {
      expect({ uid: row.uid, hash: row.line_hash }).toEqual({ uid: row.uid, hash: lineHash("2026-03-09", toLine(row)) });
    }
  });

  it("a claimer that lost its chunk writes nothing", async () => {
    await credit(db(), "someone", 5, "someone");
    const { runId, chunk } = await openAndClaim(db(), "2026-03-08");
    await db().kysely.updateTable("reconciliation_chunks").set({ claimed_by: "another" }).where("run_id", "=", runId).execute();

    const observed = await observeRange(db(), { runId, date: "2026-03-08", chunk, holder: "tester" });

    expect(observed.kept).toBe(false);
    const lines = await db().kysely.selectFrom("reconciliation_user_reports").select("uid").where("run_id", "=", runId).execute();
    expect(lines).toEqual([]);
  });
  // A chunk's range can sit where the user-id statistics estimate one row for thousands;
  // the statement then runs without nested loops or JIT (docs/decisions/reconciliation-performance.md,
  // "The 35 s mode"), and those settings must not outlive it on a pooled connection.
  if (engine === "postgres") {
    it("plans its statement without nested loops or JIT, and the pooled connection plans as before afterwards", async () => {
      await db().kysely.connection().execute(async (connection) => {
        const settings = async (on: typeof connection) =>
          (await sql<{ nestloop: string; jit: string }>`SELECT current_setting('enable_nestloop') AS nestloop, current_setting('jit') AS jit`.execute(on)).rows[0]!;
        const before = await settings(connection);
        expect(before.nestloop).toBe("on");
        const inside = await connection.transaction().execute(async (trx) => {
          await db().engine.joinWithoutTrustingEstimates(trx);
          return settings(trx);
        });
        expect(inside).toEqual({ nestloop: "off", jit: "off" });
        expect(await settings(connection)).toEqual(before);
        // The same settings opened with the transaction in one round trip, as the chunk's statement runs.
        await db().engine.beginWithoutTrustingEstimates!(connection);
        expect(await settings(connection)).toEqual({ nestloop: "off", jit: "off" });
        await sql`COMMIT`.execute(connection);
        expect(await settings(connection)).toEqual(before);
      });
    });

    it("leaves no transaction open on its connections, the chunk's or a failed one's", async () => {
      const { runId, chunk } = await openAndClaim(db(), "2026-03-14");
      await credit(db(), "open_tx_user", 5, "open_tx_1");
      await observeRange(db(), { runId, date: "2026-03-14", chunk, holder: "tester", firstClaim: true });
      // A first claim whose lines exist already: the insert fails, and the transaction must not stay open.
      await expect(observeRange(db(), { runId, date: "2026-03-14", chunk, holder: "tester", firstClaim: true })).rejects.toThrow();
      const open = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND state LIKE 'idle in transaction%'`.execute(db().kysely);
      expect(Number(open.rows[0]!.n)).toBe(0);
    });
  }
});
