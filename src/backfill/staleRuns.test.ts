import { spawn } from "node:child_process";
import { once } from "node:events";
import { hostname } from "node:os";
import { beforeAll, expect, it, vi } from "vitest";
import { backfillHarness, type BackfillHarness } from "../../test/support/backfillKit.js";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { catalogue, flakeId, NOW, paynowOrder, walletPoints } from "../../test/support/webhookFixtures.js";
import type { Db } from "../storage/openDatabase.js";
import { newBackfillRunId } from "./backfillDeps.js";
import { readBackfillRun } from "./backfillRuns.js";
import { resumeBackfill } from "./resumeBackfill.js";
import type { BackfillDeps } from "./startBackfill.js";
import { guardRun } from "./guardRun.js";
import { runBatches } from "./runBatches.js";
import { HEARTBEAT_INTERVAL_MS, holderIsAlive, holdRun, LEASE_MS, newHolder, type RunHandle } from "./runLease.js";

const DAY = "2026-01-01";
const replay = (extra: Record<string, unknown> = {}) => ({ type: "webhook_replay", startDate: DAY, endDate: DAY, ...extra });

/** The pid of a process that has exited: what a SIGKILLed run leaves in its holder. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  return child.pid!;
}

/** A `running` record as a process that died mid-run leaves it. */
async function leftRunning(db: Db, input: { id: string; holder: string; heartbeatAt: Date; dryRun?: boolean }): Promise<void> {
  const dryRun = input.dryRun ?? false;
  await db.kysely
    .insertInto("data_migrations")
    .values({
      id: input.id,
      type: "webhook_replay",
      params: JSON.stringify({ startDate: DAY, endDate: DAY, dryRun, maxEvents: 1000, planHash: null }),
      dry_run: dryRun ? 1 : 0,
      status: "running",
      max_events: 1000,
      holder: input.holder,
      started_at: input.heartbeatAt.toISOString(),
      updated_at: input.heartbeatAt.toISOString(),
      heartbeat_at: input.heartbeatAt.toISOString(),
    })
    .execute();
}

async function storeReceivedOrder(db: Db, uid: string, quantity: number): Promise<void> {
  const order = paynowOrder({ orderId: flakeId(), uid, lines: [{ productId: "p_stale", quantity }] });
  await db.kysely
    .insertInto("webhook_events")
    .values({ provider: "paynow", event_id: order.event_id, event_type: order.event_type, status: "received", raw_body: Buffer.from(JSON.stringify(order)), headers: "{}", livemode: null, received_at: NOW.toISOString() })
    .execute();
}

describeEachEngine("a backfill record left running", (db) => {
  let h: BackfillHarness;
  const deps = (): BackfillDeps => ({
    db: db(),
    now: () => h.clock.now,
    newId: () => newBackfillRunId(h.clock.now),
    reversalPolicy: "allow_negative",
    batchSize: 500,
  });
  beforeAll(async () => {
    h = await backfillHarness(db());
    await catalogue(db(), "paynow", "p_stale", 3);
  });

  it("by a process on this machine that died does not block the next run, and is resumable once abandoned", async () => {
    const holder = `${hostname()}:${await deadPid()}:killed`;
    // A fresh heartbeat: the dead pid alone is enough on this machine.
    await leftRunning(db(), { id: "bf_dead_here", holder, heartbeatAt: h.clock.now });
    await storeReceivedOrder(db(), "stale_user_a", 2);

    const next = await h.job(replay());
    expect(next.statusCode).toBe(200);
    expect(next.json()).toMatchObject({ status: "completed", processed: 1 });
    expect(await walletPoints(db(), "stale_user_a")).toBe(2 * 3);
    const dead = await readBackfillRun(db().kysely, "bf_dead_here");
    expect(dead).toMatchObject({ status: "failed", failure: { reason: "abandoned", detail: expect.stringContaining(holder) } });

    const resumed = await resumeBackfill(deps(), "bf_dead_here");
    if (resumed.outcome !== "resumed") throw new Error(`expected resumed, got ${JSON.stringify(resumed)}`);
    expect(await resumed.done).toMatchObject({ id: "bf_dead_here", status: "completed", failure: null });
  });

  it("by a dry run whose process died does not block the next dry run, and is not resumed", async () => {
    await leftRunning(db(), { id: "bf_dead_dry", holder: `${hostname()}:${await deadPid()}:killed`, heartbeatAt: h.clock.now, dryRun: true });
    const dry = await h.job(replay({ dryRun: true }));
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, status: "completed" });
    expect(await readBackfillRun(db().kysely, "bf_dead_dry")).toMatchObject({ status: "failed", failure: { reason: "abandoned" } });
    expect(await resumeBackfill(deps(), "bf_dead_dry")).toEqual({ outcome: "not_resumable", status: "dry_run" });
  });

  it("by this very process, whose execution ended without ending it, is taken over at once", async () => {
    await leftRunning(db(), { id: "bf_lost_here", holder: `${hostname()}:${process.pid}:gone`, heartbeatAt: h.clock.now });
    const next = await h.job(replay());
    expect(next.statusCode).toBe(200);
    expect(await readBackfillRun(db().kysely, "bf_lost_here")).toMatchObject({ status: "failed", failure: { reason: "abandoned" } });
  });

  it("on another machine is taken over only once its heartbeat is older than the lease", async () => {
    const beat = h.clock.now;
    await leftRunning(db(), { id: "bf_elsewhere", holder: "another-host:4242:abc", heartbeatAt: beat });
    try {
      h.clock.now = new Date(beat.getTime() + LEASE_MS - 1_000);
      const refused = await h.job(replay());
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error).toMatchObject({ code: "backfill_running", migrationId: "bf_elsewhere" });
      expect(await resumeBackfill(deps(), "bf_elsewhere")).toEqual({ outcome: "still_running", holder: "another-host:4242:abc" });

      h.clock.now = new Date(beat.getTime() + LEASE_MS + 1_000);
      const taken = await h.job(replay());
      expect(taken.statusCode).toBe(200);
      expect(await readBackfillRun(db().kysely, "bf_elsewhere")).toMatchObject({ status: "failed", failure: { reason: "abandoned" } });
    } finally {
      h.clock.now = NOW;
    }
  });

  it("a run whose record was taken over applies no further batch and leaves the record to its new holder", async () => {
    for (let index = 0; index < 3; index++) await storeReceivedOrder(db(), `fenced_user_${index}`, 1);
    // The record now belongs to a taker elsewhere; this process's execution has not noticed yet.
    await leftRunning(db(), { id: "bf_taken_over", holder: "another-host:7:taker", heartbeatAt: h.clock.now });
    const stale: RunHandle = { id: "bf_taken_over", holder: newHolder() };
    const release = holdRun(db().kysely, stale, () => h.clock.now);
    const request = { type: "webhook_replay" as const, startDate: DAY, endDate: DAY, dryRun: false, maxEvents: 1000, planHash: null };
    const record = await guardRun(deps(), stale, release, () => runBatches(deps(), stale, request, { cursor: null, scanned: 0 }));

    expect(record).toMatchObject({ status: "running", scanned: 0, finishedAt: null });
    expect((await db().kysely.selectFrom("data_migrations").select("holder").where("id", "=", "bf_taken_over").executeTakeFirstOrThrow()).holder).toBe("another-host:7:taker");
    for (let index = 0; index < 3; index++) expect(await walletPoints(db(), `fenced_user_${index}`)).toBeNull();
    await db().kysely.updateTable("data_migrations").set({ status: "cancelled" }).where("id", "=", "bf_taken_over").execute();
  });

  it("a run this process executes keeps its record: its heartbeat advances, and it is alive until released", async () => {
    const run: RunHandle = { id: "bf_beating", holder: newHolder() };
    await leftRunning(db(), { id: run.id, holder: run.holder, heartbeatAt: h.clock.now });
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    let release = () => {};
    try {
      const clock = { now: h.clock.now };
      release = holdRun(db().kysely, run, () => clock.now);
      clock.now = new Date(h.clock.now.getTime() + HEARTBEAT_INTERVAL_MS);
      vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS);
      const deadline = Date.now() + 10_000;
      let beat = (await readBackfillRun(db().kysely, run.id))!.heartbeatAt;
      while (beat !== clock.now.toISOString() && Date.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
        beat = (await readBackfillRun(db().kysely, run.id))!.heartbeatAt;
      }
      expect(beat).toBe(clock.now.toISOString());
      // Long past any lease, this process still knows it executes the run.
      const muchLater = new Date(clock.now.getTime() + 10 * LEASE_MS);
      expect(holderIsAlive(run.holder, beat!, muchLater)).toBe(true);
      release();
      expect(holderIsAlive(run.holder, beat!, clock.now)).toBe(false);
    } finally {
      release();
      vi.useRealTimers();
      await db().kysely.updateTable("data_migrations").set({ status: "cancelled" }).where("id", "=", run.id).execute();
    }
  });
});
