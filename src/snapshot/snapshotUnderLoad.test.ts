import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOpenLoop, startServer, stopServer, type Answer } from "../../bench/openLoop.js";
import { LOAD_POINTS_PER_UNIT, LOAD_PRODUCT, PaynowLoad } from "../../bench/paynowLoad.js";
import { adminQuery, createTestDatabase, ENGINES, PG_ADMIN_URL, type TestDatabase } from "../../test/support/testDatabase.js";
import { setCatalogueProduct } from "../catalogue/setCatalogueProduct.js";
import { openDatabase, type Db } from "../storage/openDatabase.js";
import { createSnapshot } from "./createSnapshot.js";
import { restoreSnapshot } from "./restoreSnapshot.js";

/** Offered deliveries per second. */
const RATE_PER_SECOND = 500;
/** The snapshot starts once this many deliveries were ACKed. */
const ACKS_AROUND_SNAPSHOT = 50;
/**
 * Sending stops this long after the snapshot ends, or once as many more were ACKed;
 * however slow the machine, it stops after MAX_LOAD_MS.
 */
const LOAD_AFTER_SNAPSHOT_MS = 1_000;
const MAX_LOAD_MS = 15_000;

/** What a restored copy holds of the deliveries: each event's status, and each order's credited points. */
async function deliveriesIn(db: Db) {
  const events = await db.kysely.selectFrom("webhook_events").select(["event_id", "status"]).where("provider", "=", "paynow").execute();
  const credits = await db.kysely.selectFrom("ledger_entries").select(["idempotency_key", "amount"]).where("kind", "=", "purchase").execute();
  return { status: new Map(events.map((row) => [row.event_id, row.status])), credited: new Map(credits.map((row) => [row.idempotency_key, row.amount])) };
}

/** Wallets whose points are not the sum of their entries, counted by the database itself. */
async function walletsNotEqualEntries(db: Db): Promise<number> {
  const result = await sql<{ n: number | string }>`
    select count(*) as n from wallets w
    where w.points <> coalesce((select sum(e.amount) from ledger_entries e where e.uid = w.uid), 0)`.execute(db.kysely);
  return Number(result.rows[0]!.n);
}

for (const engine of ENGINES) {
  describe(`a snapshot taken while signed deliveries flow [${engine}]`, () => {
    const dir = mkdtempSync(join(tmpdir(), "reckon-snapshot-load-"));
    const restoredName = `reckon_t_loadrestore_${randomBytes(4).toString("hex")}`;
    const targetUrl = engine === "sqlite" ? `file:${join(dir, `${restoredName}.db`)}` : Object.assign(new URL(PG_ADMIN_URL), { pathname: `/${restoredName}` }).toString();
    let source: TestDatabase;

    beforeAll(async () => {
      source = await createTestDatabase(engine, { poolSize: 2 });
      await setCatalogueProduct(source.db, { provider: "paynow", productId: LOAD_PRODUCT, pointsPerUnit: LOAD_POINTS_PER_UNIT, actor: "test", now: new Date() });
    });
    afterAll(async () => {
      await source.drop();
      if (engine === "postgres") await adminQuery(`DROP DATABASE IF EXISTS ${restoredName} WITH (FORCE)`);
      rmSync(dir, { recursive: true, force: true });
    });

    it("restores to a consistent state: every wallet equals its entries, every delivery ACKed before it began is there and credited", { timeout: 120_000 }, async () => {
      const secrets = [randomBytes(24).toString("hex")];
      const load = new PaynowLoad(secrets, undefined, 200);
      const server = await startServer("reckon", { DATABASE_URL: source.url, PAYNOW_WEBHOOK_SECRETS: secrets.join(","), ENVIRONMENT: "test" });
      /** When each ACK reached this process, against the snapshot's start and end. */
      const ackedAt: { answer: Answer; atMs: number }[] = [];
      let snapshotStartMs = Number.POSITIVE_INFINITY;
      let snapshotEndMs = Number.POSITIVE_INFINITY;
      let manifestPath = "";
      const ackCount = () => ackedAt.filter(({ answer }) => answer.status === 200).length;
      try {
        const snapshot = (async () => {
          // Taken once deliveries have been committing for a while, and while they go on.
          const startedMs = performance.now();
          while (ackCount() < ACKS_AROUND_SNAPSHOT && performance.now() - startedMs < MAX_LOAD_MS) await new Promise((resolveWait) => setTimeout(resolveWait, 20));
          snapshotStartMs = performance.now();
          const created = await createSnapshot(source.db, { url: source.url, dir, environment: "test", now: new Date() });
          snapshotEndMs = performance.now();
          if (created.outcome !== "created") throw new Error(created.problem);
          manifestPath = created.manifestPath;
        })();
        let ackedAtEnd = Number.POSITIVE_INFINITY;
        const flow = runOpenLoop({
          port: server.port,
          ratePerSecond: RATE_PER_SECOND,
          durationMs: MAX_LOAD_MS,
          shot: (index) => load.shot(index),
          timeoutMs: 5_000,
          onAnswer: (answer) => ackedAt.push({ answer, atMs: performance.now() }),
          shouldStop: () => {
            if (snapshotEndMs === Number.POSITIVE_INFINITY) return false;
            ackedAtEnd = Math.min(ackedAtEnd, ackCount());
            if (ackCount() < ackedAtEnd + ACKS_AROUND_SNAPSHOT && performance.now() - snapshotEndMs <= LOAD_AFTER_SNAPSHOT_MS) return false;
            // What the server has not answered yet is not this test's subject: a server on a
            // loaded machine can be seconds behind 500/s, and draining that queue would make
            // the test minutes long. Its committed deliveries stay as they are.
            server.child.kill("SIGKILL");
            return true;
          },
        });
        await Promise.all([snapshot, flow]);
      } finally {
        await stopServer(server.child, "SIGKILL");
      }

      const acked = ackedAt.filter(({ answer }) => answer.status === 200);
      const ackedBefore = acked.filter(({ atMs }) => atMs < snapshotStartMs).map(({ answer }) => answer.tag);
      // The snapshot was taken in the middle of the flow, not before or after it.
      expect(ackedBefore.length).toBeGreaterThanOrEqual(ACKS_AROUND_SNAPSHOT);
      expect(acked.filter(({ atMs }) => atMs > snapshotEndMs).length).toBeGreaterThan(0);

      const restored = await restoreSnapshot({ manifestPath, targetUrl, liveUrl: source.url, force: false, environment: "test", verifyKey: null });
      expect(restored).toMatchObject({ outcome: "restored", invariantViolations: 0 });
      const copy = openDatabase(targetUrl, { poolSize: 2 });
      try {
        expect(await walletsNotEqualEntries(copy)).toBe(0);
        const { status, credited } = await deliveriesIn(copy);
        const missing = ackedBefore.filter((eventId) => {
          const order = load.sentOrders.get(eventId)!;
          return status.get(eventId) !== "processed" || credited.get(`paynow:order:${order.orderId}`) !== order.points;
        });
        expect(missing).toEqual([]);
        // Deliveries kept committing after the copy's instant: the source holds more than the copy.
        const after = await deliveriesIn(source.db);
        expect(after.status.size).toBeGreaterThan(status.size);
        // Nothing half-applied: each stored order in the copy is credited exactly as sent, or not stored at all.
        for (const [eventId, order] of load.sentOrders) {
          if (status.get(eventId) === "processed") expect(credited.get(`paynow:order:${order.orderId}`)).toBe(order.points);
        }
      } finally {
        await copy.close();
      }
    });
  });
}
