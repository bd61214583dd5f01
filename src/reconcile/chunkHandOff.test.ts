import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, ENGINES, invariantViolations, PG_ADMIN_URL, type TestDatabase } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import { openDatabase, type Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { claimChunk } from "./claimChunk.js";
import { openRun, STALE_AFTER_MS } from "./openRun.js";
import { runReconciliation } from "./runReconciliation.js";
import { summarizeLines } from "./summarizeLines.js";
import { sweepChunk } from "./sweepChunk.js";
import { verifyReports } from "./verifyReports.js";

/**
 * Review of the PostgreSQL round (one-statement claim, done mark inside the heal
 * transaction, finalize's fold on two connections), on both engines where it applies:
 * several handles claiming at once, a claimer that loses its chunk inside its heal
 * transaction, and the fold with one connection or with its helper killed mid-range.
 */

function withDb(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

const T0 = new Date("2026-09-01T02:00:00.000Z");
const LATER = new Date(T0.getTime() + STALE_AFTER_MS + 1000);
const USERS = 40;

async function seed(db: Db, prefix: string, users: number): Promise<void> {
  for (let index = 0; index < users; index++) {
    await withTransaction(db, (trx) =>
      postEntry(trx, { uid: `${prefix}${String(index).padStart(3, "0")}`, kind: "purchase", amount: 100 + index, idempotencyKey: `${prefix}-${index}`, source: "test", now: T0 }),
    );
  }
}

/** Claims until none is left, on `handle` as `holder`; the chunk numbers it got, with whether each was a first claim. */
async function claimAll(handle: Db, runId: number, holder: string, at: Date): Promise<{ chunkNo: number; firstClaim: boolean }[]> {
  const got: { chunkNo: number; firstClaim: boolean }[] = [];
  for (;;) {
    const chunk = await claimChunk(handle, runId, holder, at);
    if (!chunk) return got;
    expect(chunk).toMatchObject({ status: "claimed", claimed_by: holder });
    got.push({ chunkNo: chunk.chunk_no, firstClaim: chunk.firstClaim });
  }
}

for (const engine of ENGINES) {
  describe(`chunk hand-off between claimers and the fold's connections [${engine}]`, () => {
    let database: TestDatabase;
    /** PostgreSQL: three more pools, as three more instances would have; SQLite: the same handle (one writer). */
    let handles: Db[];
    beforeAll(async () => {
      database = await createTestDatabase(engine);
      handles = engine === "postgres" ? [database.db, ...[1, 2, 3].map(() => openDatabase(database.url, { poolSize: 2 }))] : [database.db];
      await seed(database.db, "u", USERS);
    });

    /** A run of `date` completed with one user per chunk (so the fold has many ranges), and its digest read on one connection. */
    async function completedRunToFold(date: string) {
      const done = await runReconciliation(database.db, { date, policy: "report_only", chunkUsers: 1, mode: "start", now: () => T0, holder: "folder" });
      if (done.outcome !== "completed") throw new Error(done.outcome);
      const runId = done.run.runId;
      return { runId, reference: await summarizeLines(database.db.kysely, runId, date, () => undefined) };
    }
    afterAll(async () => {
      for (const handle of handles.slice(1)) await handle.close();
      await database.drop();
    });

    it("claimers racing for chunks get each one exactly once; after the heartbeat lapses each is taken over exactly once, no sooner", async () => {
      const opened = await openRun(database.db, { date: "2026-08-31", policy: "report_only", chunkUsers: 1, mode: "start", now: T0 });
      if (opened.outcome !== "opened") throw new Error(opened.outcome);
      const total = Number((await database.db.kysely.selectFrom("reconciliation_chunks").select((eb) => eb.fn.countAll<number>().as("n")).where("run_id", "=", opened.runId).executeTakeFirstOrThrow()).n);
      // One user each, and the open-ended range after the last.
      expect(total).toBe(USERS + 1);
      const everyChunk = Array.from({ length: total }, (_, index) => index);

      // Two claimers per handle, all at once.
      const first = await Promise.all(handles.flatMap((handle, index) => [0, 1].map((k) => claimAll(handle, opened.runId, `first-${index}-${k}`, T0))));
      const claimedFirst = first.flat();
      expect(claimedFirst.map((claim) => claim.chunkNo).sort((a, b) => a - b)).toEqual(everyChunk);
      expect(claimedFirst.every((claim) => claim.firstClaim)).toBe(true);
      if (engine === "postgres") expect(first.filter((got) => got.length > 0).length).toBeGreaterThan(1);

      // A second before the claims go stale: nothing to hand out.
      const justBefore = new Date(T0.getTime() + STALE_AFTER_MS - 1000);
      expect(await claimChunk(handles.at(-1)!, opened.runId, "early", justBefore)).toBeUndefined();

      const second = await Promise.all(handles.flatMap((handle, index) => [0, 1].map((k) => claimAll(handle, opened.runId, `heir-${index}-${k}`, LATER))));
      const claimedSecond = second.flat();
      expect(claimedSecond.map((claim) => claim.chunkNo).sort((a, b) => a - b)).toEqual(everyChunk);
      expect(claimedSecond.some((claim) => claim.firstClaim)).toBe(false);
      const rows = await database.db.kysely.selectFrom("reconciliation_chunks").select(["chunk_no", "claimed_by", "claimed_at"]).where("run_id", "=", opened.runId).execute();
      const holderOf = new Map(second.flatMap((got, index) => got.map((claim) => [claim.chunkNo, index] as const)));
      for (const row of rows) {
        const index = holderOf.get(row.chunk_no)!;
        expect(row.claimed_by).toBe(`heir-${Math.floor(index / 2)}-${index % 2}`);
        expect(new Date(row.claimed_at as unknown as string).getTime()).toBe(LATER.getTime());
      }
      const run = await database.db.kysely.selectFrom("reconciliation_runs").select("heartbeat_at").where("id", "=", opened.runId).executeTakeFirstOrThrow();
      expect(new Date(run.heartbeat_at as unknown as string).getTime()).toBe(LATER.getTime());
      await database.db.kysely.updateTable("reconciliation_runs").set({ status: "failed" }).where("id", "=", opened.runId).execute();
    });

    it("a claimer that loses its chunk inside its heal transaction: its heal commits once, the heir's run counts it and verifies", async () => {
      const date = "2026-08-30";
      await seed(database.db, "h", 6);
      await sql`UPDATE wallets SET points = points + 13 WHERE uid = 'h002'`.execute(database.db.kysely);
      // Only users h… in this run's range would be nice, but chunks cover every wallet: one chunk for all.
      const opened = await openRun(database.db, { date, policy: "adjust_ledger", chunkUsers: 1000, mode: "start", now: T0 });
      if (opened.outcome !== "opened") throw new Error(opened.outcome);
      const ghostChunk = await claimChunk(database.db, opened.runId, "ghost", T0);
      expect(ghostChunk).toMatchObject({ chunk_no: 0, firstClaim: true });
      // The heal's adjusting entry is the moment the ghost's claim is lost: the trigger hands
      // the chunk to a thief (stale at LATER) inside the ghost's heal transaction, before its done mark.
      await sql.raw(engine === "postgres"
        ? `CREATE FUNCTION steal_chunk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
             UPDATE reconciliation_chunks SET claimed_by = 'thief' WHERE run_id = ${opened.runId} AND claimed_by = 'ghost'; RETURN NEW; END $$;
           CREATE TRIGGER steal_chunk AFTER INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION steal_chunk();`
        : `CREATE TRIGGER steal_chunk AFTER INSERT ON ledger_entries BEGIN
             UPDATE reconciliation_chunks SET claimed_by = 'thief' WHERE run_id = ${opened.runId} AND claimed_by = 'ghost'; END;`,
      ).execute(database.db.kysely);
      const run = { runId: opened.runId, date, policy: "adjust_ledger" as const };
      let ghost;
      try {
        ghost = await sweepChunk(database.db, run, ghostChunk!, "ghost", () => T0);
      } finally {
        await sql.raw(engine === "postgres" ? "DROP TRIGGER steal_chunk ON ledger_entries; DROP FUNCTION steal_chunk();" : "DROP TRIGGER steal_chunk").execute(database.db.kysely);
      }
      expect(ghost).toMatchObject({ kept: false, violations: 1, adjustmentAbsTotal: 13 });
      expect(ghost.healed.map((line) => line.uid)).toEqual(["h002"]);
      const chunk = await database.db.kysely.selectFrom("reconciliation_chunks").select(["status", "claimed_by"]).where("run_id", "=", opened.runId).executeTakeFirstOrThrow();
      expect(chunk).toEqual({ status: "claimed", claimed_by: "thief" });

      // The thief went silent too; the heir takes the chunk over and completes the run.
      const done = await runReconciliation(database.db, { date, policy: "adjust_ledger", chunkUsers: 1000, mode: "join", now: () => LATER, holder: "heir" });
      if (done.outcome !== "completed") throw new Error(done.outcome);
      expect(done.run).toMatchObject({ usersChecked: USERS + 6, violations: 1, adjustmentAbsTotal: 13, status: "completed" });
      const heals = await database.db.kysely.selectFrom("ledger_entries").select("uid").where("uid", "=", "h002").where("kind", "!=", "purchase").execute();
      expect(heals).toHaveLength(1);
      expect(await invariantViolations(database.db)).toEqual([]);
      const verified = await verifyReports(database.db.kysely);
      expect(verified.problems).toEqual([]);
      expect(verified.verdict).toBe("unsigned");
      expect(verified.linesChecked).toBeGreaterThan(0);
    });

    it("finalize's fold on one pooled connection, or with its helper's backend killed mid-range, gives the one-connection digest and returns", async () => {
      const date = "2026-08-29";
      const { runId, reference } = await completedRunToFold(date);
      expect(reference.usersChecked).toBeGreaterThanOrEqual(USERS);

      const single = openDatabase(database.url, { poolSize: 1 });
      try {
        expect(await summarizeLines(single.kysely, runId, date)).toEqual(reference);
      } finally {
        await single.close();
      }
      if (engine !== "postgres") return;

      // The helper is the second transaction open on the database; kill its backend as soon as it reads.
      const pair = openDatabase(database.url, { poolSize: 2 });
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      let killed = 0;
      try {
        const dbName = new URL(database.url).pathname.slice(1);
        for (let attempt = 0; attempt < 20 && killed === 0; attempt++) {
          const stop = { done: false };
          const killer = (async () => {
            while (!stop.done && killed === 0) {
              const open = await admin.query<{ pid: number }>(
                `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND xact_start IS NOT NULL AND pid <> pg_backend_pid() AND query LIKE '%reconciliation_user_reports%'
                 ORDER BY xact_start`,
                [dbName],
              );
              if (open.rows.length === 2) {
                const result = await admin.query<{ ok: boolean }>(`SELECT pg_terminate_backend($1) AS ok`, [open.rows[1]!.pid]);
                if (result.rows[0]!.ok) killed += 1;
              }
            }
          })();
          try {
            expect(await summarizeLines(pair.kysely, runId, date)).toEqual(reference);
          } finally {
            stop.done = true;
            await killer;
          }
        }
        expect(killed).toBe(1);
        // And the pool still serves after losing a connection.
        expect(await summarizeLines(pair.kysely, runId, date)).toEqual(reference);
      } finally {
        await admin.end();
        await pair.close();
      }
    });

    it("a claim that a serialization failure or deadlock rolls back is tried again, up to five times, and hands out each chunk once", async () => {
      if (engine !== "postgres") return;
      const opened = await openRun(database.db, { date: "2026-08-27", policy: "report_only", chunkUsers: 20, mode: "start", now: T0 });
      if (opened.outcome !== "opened") throw new Error(opened.outcome);
      // The run's heartbeat, written by the claim statement itself, fails the first `left_to_fail`
      // attempts (counted by a sequence: a failed statement rolls back any count kept in a table).
      await sql.raw(`CREATE TABLE claim_failures (left_to_fail INT NOT NULL, code TEXT NOT NULL);
        CREATE SEQUENCE claim_attempts;
        CREATE FUNCTION fail_claim() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE row claim_failures; BEGIN
          SELECT * INTO row FROM claim_failures LIMIT 1;
          IF row IS NOT NULL AND nextval('claim_attempts') <= row.left_to_fail THEN RAISE EXCEPTION 'injected' USING ERRCODE = row.code; END IF;
          RETURN NEW; END $$;
        CREATE TRIGGER fail_claim BEFORE UPDATE ON reconciliation_runs FOR EACH ROW EXECUTE FUNCTION fail_claim();`).execute(database.db.kysely);
      try {
        const failNext = async (times: number, code: string) => {
          await sql`DELETE FROM claim_failures`.execute(database.db.kysely);
          await sql`INSERT INTO claim_failures VALUES (${times}, ${code})`.execute(database.db.kysely);
        };
        const restart = () => sql.raw(`ALTER SEQUENCE claim_attempts RESTART`).execute(database.db.kysely);

        await failNext(4, "40001");
        await restart();
        const first = await claimChunk(database.db, opened.runId, "retrier", T0);
        expect(first).toMatchObject({ chunk_no: 0, firstClaim: true, claimed_by: "retrier" });

        await failNext(4, "40P01");
        await restart();
        expect(await claimChunk(database.db, opened.runId, "retrier", T0)).toMatchObject({ chunk_no: 1, firstClaim: true });

        await failNext(5, "40001");
        await restart();
        await expect(claimChunk(database.db, opened.runId, "retrier", T0)).rejects.toMatchObject({ code: "40001" });
        // An error no retry can cure is not tried again.
        await failNext(1, "22012");
        await restart();
        await expect(claimChunk(database.db, opened.runId, "retrier", T0)).rejects.toMatchObject({ code: "22012" });

        // Nothing of the failed attempts stuck: chunk 2 is still pending, and is the next handed out.
        await failNext(0, "40001");
        const statuses = await database.db.kysely.selectFrom("reconciliation_chunks").select(["chunk_no", "status"]).where("run_id", "=", opened.runId).orderBy("chunk_no").execute();
        expect(statuses.slice(0, 3)).toEqual([{ chunk_no: 0, status: "claimed" }, { chunk_no: 1, status: "claimed" }, { chunk_no: 2, status: "pending" }]);
        expect(await claimChunk(database.db, opened.runId, "retrier", T0)).toMatchObject({ chunk_no: 2 });
      } finally {
        await sql.raw(`DROP TRIGGER fail_claim ON reconciliation_runs; DROP FUNCTION fail_claim(); DROP TABLE claim_failures; DROP SEQUENCE IF EXISTS claim_attempts;`).execute(database.db.kysely);
        await database.db.kysely.updateTable("reconciliation_runs").set({ status: "failed" }).where("id", "=", opened.runId).execute();
      }
    });

    it("a lock queued behind the fold (a migration's ALTER TABLE) does not wedge it: the helper gives up its range instead of waiting", async () => {
      if (engine !== "postgres") return;
      const date = "2026-08-26";
      const { runId, reference } = await completedRunToFold(date);
      const dbName = new URL(database.url).pathname.slice(1);
      const pair = openDatabase(database.url, { poolSize: 2 });
      const admin = new pg.Client({ connectionString: withDb(PG_ADMIN_URL, dbName) });
      await admin.connect();
      try {
        let queued = 0;
        for (let attempt = 0; attempt < 20 && queued === 0; attempt++) {
          const stop = { done: false };
          let migration: Promise<string> | null = null;
          const watcher = (async () => {
            while (!stop.done && migration === null) {
              // The owner holds its read lock on the lines and the helper has not read yet: queue an exclusive lock.
              const holders = await admin.query(
                `SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'reconciliation_user_reports' AND l.granted AND l.pid <> pg_backend_pid()`,
              );
              const open = await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND xact_start IS NOT NULL AND pid <> pg_backend_pid()`, [dbName]);
              if (holders.rows.length === 1 && open.rows.length === 2) {
                migration = admin
                  .query(`BEGIN; SET LOCAL lock_timeout = '3s'; LOCK TABLE reconciliation_user_reports IN ACCESS EXCLUSIVE MODE; COMMIT;`)
                  .then(() => "granted", async (error: { code?: string }) => {
                    await admin.query("ROLLBACK");
                    return error.code ?? "error";
                  });
              }
            }
          })();
          const summary = await summarizeLines(pair.kysely, runId, date);
          stop.done = true;
          await watcher;
          expect(summary).toEqual(reference);
          if (migration === null) continue;
          queued += 1;
          // Granted once the fold committed; a lock timeout (55P03) means the fold waited on the lock's queue for 3 s.
          expect(await migration).toBe("granted");
        }
        expect(queued).toBe(1);
      } finally {
        await admin.end();
        await pair.close();
      }
    });

    it("when the fold's own connection dies mid-fold, the fold fails and its helper stops with it: no transaction outlives it", async () => {
      if (engine !== "postgres") return;
      const date = "2026-08-28";
      const { runId, reference } = await completedRunToFold(date);
      const dbName = new URL(database.url).pathname.slice(1);
      const openTransactions = async (client: pg.Client) =>
        (await client.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND xact_start IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start`, [dbName])).rows as { pid: number }[];
      const pair = openDatabase(database.url, { poolSize: 2 });
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      try {
        let failed = 0;
        for (let attempt = 0; attempt < 20 && failed === 0; attempt++) {
          let killedOwner = false;
          const stop = { done: false };
          const killer = (async () => {
            while (!stop.done && !killedOwner) {
              // Both connections in the fold: the owner is the one whose transaction began first.
              const open = await openTransactions(admin);
              if (open.length === 2) killedOwner = (await admin.query<{ ok: boolean }>(`SELECT pg_terminate_backend($1) AS ok`, [open[0]!.pid])).rows[0]!.ok;
            }
          })();
          const outcome = await summarizeLines(pair.kysely, runId, date).then(
            (summary) => ({ summary }),
            (error: unknown) => ({ error }),
          );
          stop.done = true;
          await killer;
          if ("summary" in outcome) {
            // The kill came too late (or hit the helper): then the fold is whole.
            expect(outcome.summary).toEqual(reference);
            continue;
          }
          failed += 1;
          // Right as the fold reports its failure, nothing of it still reads.
          expect(await openTransactions(admin)).toEqual([]);
        }
        expect(failed).toBe(1);
      } finally {
        await admin.end();
        await pair.close();
      }
    });
  });
}
