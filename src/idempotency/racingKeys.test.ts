import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../../test/support/testApp.js";
import { createTestDatabase, ENGINES, invariantViolations, type TestDatabase } from "../../test/support/testDatabase.js";
import { postEntry } from "../ledger/postEntry.js";
import { withTransaction } from "../storage/withTransaction.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const REQUESTS = 50;
const KEYS = 5;

interface Sent {
  key: string;
  body: { amount: number; reason: string };
  status: number;
  json: { entry?: { amount: number }; error?: { code: string } };
  raw: string;
  replayed: boolean;
}

/**
 * The request plan: request i uses key i mod KEYS and amount 1 or 2 by a fixed,
 * irregular pattern, so every key is sent with both bodies, interleaved.
 */
function plan(prefix: string) {
  return Array.from({ length: REQUESTS }, (_, index) => ({
    key: `${prefix}-${index % KEYS}`,
    body: { amount: ((index * 7) >> 2) % 2 === 0 ? 1 : 2, reason: "race" },
  }));
}

/**
 * What a careful client may see when several requests race under one key: exactly one
 * fresh answer; every other request with the winner's body gets that answer replayed,
 * every other body gets 409 idempotency_key_reused. Returns each key's winning body.
 */
function checkAnswers(sent: Sent[]): Map<string, Sent> {
  for (const answer of sent) expect([201, 409], `${answer.key}: ${answer.raw}`).toContain(answer.status);
  const winners = new Map<string, Sent>();
  for (const answer of sent) {
    if (answer.status === 201 && !answer.replayed) {
      expect(winners.has(answer.key), `two fresh answers for ${answer.key}`).toBe(false);
      winners.set(answer.key, answer);
    }
  }
  for (const answer of sent) {
    const winner = winners.get(answer.key);
    expect(winner, `no fresh answer for ${answer.key}`).toBeDefined();
    if (answer.body.amount === winner!.body.amount) {
      expect(answer.status).toBe(201);
      expect(answer.raw).toBe(winner!.raw);
    } else {
      expect(answer.status).toBe(409);
      expect(answer.json.error?.code).toBe("idempotency_key_reused");
    }
  }
  return winners;
}

async function fire(t: TestApp, requests: ReturnType<typeof plan>, url: string, role: "service" | "admin"): Promise<Sent[]> {
  return Promise.all(
    requests.map(async ({ key, body }) => {
      const response = await t.app.inject({
        method: "POST",
        url,
        headers: { ...t.as[role], "idempotency-key": key },
        payload: body,
      });
      return {
        key,
        body,
        status: response.statusCode,
        json: response.json(),
        raw: response.body,
        replayed: response.headers["idempotent-replayed"] === "true",
      };
    }),
  );
}

for (const engine of ENGINES) {
  describe(`requests racing under one Idempotency-Key [${engine}]`, () => {
    let database: TestDatabase;
    let t: TestApp;
    beforeAll(async () => {
      // Twenty real connections on PostgreSQL, so the requests genuinely run at once.
      database = await createTestDatabase(engine, { poolSize: 20 });
      t = await buildTestApp(database.db);
    });
    afterAll(async () => {
      await t.app.close();
      await database.drop();
    });

    const pointsOf = async (uid: string) =>
      (await database.db.kysely.selectFrom("wallets").select("points").where("uid", "=", uid).executeTakeFirstOrThrow()).points;
    const credit = (uid: string, amount: number) =>
      withTransaction(database.db, (trx) =>
        postEntry(trx, { uid, kind: "purchase", amount, idempotencyKey: `${uid}-buy`, source: "test", now: NOW }),
      );

    it("50 racing spends under 5 keys with mixed bodies get one answer per key, its replays and 409s, never a 5xx", async () => {
      await credit("spend_racer", 1000);
      const winners = checkAnswers(await fire(t, plan("spend"), "/api/wallets/spend_racer/spend", "service"));
      const spent = [...winners.values()].reduce((total, winner) => total + winner.body.amount, 0);
      expect(await pointsOf("spend_racer")).toBe(1000 - spent);
      expect(await invariantViolations(database.db)).toEqual([]);
    });

    it("50 racing admin adjustments under 5 keys with mixed bodies move the wallet once per key, never a 5xx", async () => {
      const winners = checkAnswers(await fire(t, plan("adjust"), "/api/admin/wallets/adjust_racer/adjustments", "admin"));
      const added = [...winners.values()].reduce((total, winner) => total + winner.body.amount, 0);
      expect(await pointsOf("adjust_racer")).toBe(added);
      expect(await invariantViolations(database.db)).toEqual([]);
    });

    it("50 racing admin reversals under 5 keys with mixed bodies reverse once per key, never a 5xx", async () => {
      const bought = await credit("reverse_racer", 100);
      if (bought.outcome !== "posted") throw new Error(bought.outcome);
      const url = `/api/admin/entries/${bought.entry.id}/reverse`;
      const winners = checkAnswers(await fire(t, plan("reverse"), url, "admin"));
      const reversed = [...winners.values()].reduce((total, winner) => total + winner.body.amount, 0);
      expect(await pointsOf("reverse_racer")).toBe(100 - reversed);
      expect(await invariantViolations(database.db)).toEqual([]);
    });
  });
}
