import { beforeAll, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../../../test/support/testApp.js";
import { describeEachEngine, invariantViolations, tableCounts } from "../../../test/support/testDatabase.js";
import { withTransaction } from "../../storage/withTransaction.js";
import { prodEnv } from "../../../test/support/prodEnv.js";
import { postEntries } from "../../ledger/postEntries.js";
import { postEntry } from "../../ledger/postEntry.js";

describeEachEngine("wallet routes", (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(db());
    await withTransaction(db(), async (trx) => {
      for (let index = 0; index < 7; index++) {
        await postEntry(trx, {
          uid: "reader",
          kind: "purchase",
          amount: 10 + index,
          idempotencyKey: `reader-${index}`,
          source: "test",
          now: new Date("2026-02-01T00:00:00Z"),
        });
      }
      await postEntry(trx, {
        uid: "spender",
        kind: "purchase",
        amount: 100,
        idempotencyKey: "spender-buy",
        source: "test",
        now: new Date("2026-02-01T00:00:00Z"),
      });
    });
  });

  const spend = (body: unknown, key = "spend-1", uid = "spender") =>
    t.app.inject({
      method: "POST",
      url: `/api/wallets/${uid}/spend`,
      headers: { ...t.as.service, "idempotency-key": key },
      payload: body as object,
    });

  it("shows a wallet with its balance, version and newest entries", async () => {
    const response = await t.app.inject({ method: "GET", url: "/api/wallets/reader", headers: t.as.service });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ uid: "reader", points: 10 + 11 + 12 + 13 + 14 + 15 + 16, version: 7 });
    expect(body.lastEntries.map((entry: { amount: number }) => entry.amount)).toEqual([16, 15, 14, 13, 12, 11, 10]);
  });

  it("answers 404 wallet_not_found for a user who never had an entry", async () => {
    const response = await t.app.inject({ method: "GET", url: "/api/wallets/nobody", headers: t.as.admin });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe("wallet_not_found");
  });

  it("pages through the ledger with an opaque cursor, newest first, without gaps or repeats", async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=3&cursor=${cursor}` : "?limit=3";
      const response = await t.app.inject({ method: "GET", url: `/api/wallets/reader/ledger${query}`, headers: t.as.service });
      expect(response.statusCode).toBe(200);
      const page = response.json() as { entries: { amount: number }[]; nextCursor: string | null };
      seen.push(...page.entries.map((entry) => entry.amount));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([16, 15, 14, 13, 12, 11, 10]);
  });

  it("spends once per Idempotency-Key and replays the first response", async () => {
    const first = await spend({ amount: 30, reason: "sword" }, "buy-sword");
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ entry: { amount: -30, kind: "spend" }, wallet: { points: 70 } });
    const before = await tableCounts(db());
    const again = await spend({ amount: 30, reason: "sword" }, "buy-sword");
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(await tableCounts(db())).toEqual(before);
  });

  it("answers 409 when an Idempotency-Key comes back with a different body, changing nothing", async () => {
    await spend({ amount: 5 }, "same-key");
    const before = await tableCounts(db());
    const other = await spend({ amount: 6 }, "same-key");
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe("idempotency_key_reused");
    expect(await tableCounts(db())).toEqual(before);
  });

  it("refuses a spend beyond the balance with 409 insufficient_points and the available points", async () => {
    const response = await spend({ amount: 1_000_000 }, "too-much");
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({ code: "insufficient_points", available: expect.any(Number) });
  });

  it("lets an admin adjust a wallet and reverse an entry, both as new audited entries", async () => {
    const adjust = await t.app.inject({
      method: "POST",
      url: "/api/admin/wallets/gifted/adjustments",
      headers: { ...t.as.admin, "idempotency-key": "gift-1" },
      payload: { amount: 40, reason: "support goodwill" },
    });
    expect(adjust.statusCode).toBe(201);
    const entryId = adjust.json().entry.id as number;
    const partial = await t.app.inject({
      method: "POST",
      url: `/api/admin/entries/${entryId}/reverse`,
      headers: { ...t.as.admin, "idempotency-key": "ungift-1" },
      payload: { amount: 15, reason: "partly wrong" },
    });
    expect(partial.statusCode).toBe(201);
    expect(partial.json()).toMatchObject({ entry: { kind: "reversal", amount: -15, reversesEntryId: entryId }, wallet: { points: 25 } });
    const tooMuch = await t.app.inject({
      method: "POST",
      url: `/api/admin/entries/${entryId}/reverse`,
      headers: { ...t.as.admin, "idempotency-key": "ungift-2" },
      payload: { amount: 26, reason: "more" },
    });
    expect(tooMuch.statusCode).toBe(409);
    expect(tooMuch.json().error).toMatchObject({ code: "exceeds_original", remaining: 25 });
    const audit = await db().kysely.selectFrom("audit_log").select(["actor", "action"]).where("subject", "=", "gifted").execute();
    expect(audit).toEqual([
      { actor: "token:test-admin", action: "wallet.adjust" },
      { actor: "token:test-admin", action: "entry.reverse" },
    ]);
  });

  it("refuses manual adjustments and reversals with 423 while adjustments are frozen", async () => {
    await db()
      .kysely.insertInto("runtime_flags")
      .values({ name: "adjustments_frozen", value: "true", updated_at: "2026-03-01T00:00:00.000Z", updated_by: "test" })
      .execute();
    try {
      const before = await tableCounts(db());
      const adjust = await t.app.inject({
        method: "POST",
        url: "/api/admin/wallets/frozen_user/adjustments",
        headers: { ...t.as.admin, "idempotency-key": "frozen-1" },
        payload: { amount: 40, reason: "during cutover" },
      });
      expect(adjust.statusCode).toBe(423);
      expect(adjust.json().error.code).toBe("adjustments_frozen");
      const reverse = await t.app.inject({
        method: "POST",
        url: "/api/admin/entries/1/reverse",
        headers: { ...t.as.admin, "idempotency-key": "frozen-2" },
        payload: { reason: "during cutover" },
      });
      expect(reverse.statusCode).toBe(423);
      expect(await tableCounts(db())).toEqual(before);
    } finally {
      await db().kysely.deleteFrom("runtime_flags").where("name", "=", "adjustments_frozen").execute();
    }
    const afterThaw = await t.app.inject({
      method: "POST",
      url: "/api/admin/wallets/frozen_user/adjustments",
      headers: { ...t.as.admin, "idempotency-key": "frozen-1" },
      payload: { amount: 40, reason: "during cutover" },
    });
    expect(afterThaw.statusCode).toBe(201);
  });

  it("keeps the roles apart: no token 401, a service token cannot adjust, an admin token cannot spend", async () => {
    const none = await t.app.inject({ method: "GET", url: "/api/wallets/reader" });
    expect(none.statusCode).toBe(401);
    const bogus = await t.app.inject({ method: "GET", url: "/api/wallets/reader", headers: { authorization: "Bearer rk_admin_nope" } });
    expect(bogus.statusCode).toBe(401);
    const serviceAdjust = await t.app.inject({
      method: "POST",
      url: "/api/admin/wallets/reader/adjustments",
      headers: { ...t.as.service, "idempotency-key": "x" },
      payload: { amount: 1, reason: "r" },
    });
    expect(serviceAdjust.statusCode).toBe(403);
    const adminSpend = await t.app.inject({
      method: "POST",
      url: "/api/wallets/reader/spend",
      headers: { ...t.as.admin, "idempotency-key": "y" },
      payload: { amount: 1 },
    });
    expect(adminSpend.statusCode).toBe(403);
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("answers a key whose ledger entry exists without its idempotency record from the ledger, never with a 5xx", async () => {
    // The ledger keys of the three routes, planted as if their idempotency records were lost.
    const plant = (kind: "spend" | "admin_adjustment", amount: number, key: string) =>
      withTransaction(db(), (trx) => postEntry(trx, { uid: "orphaned", kind, amount, idempotencyKey: key, source: "test", now: new Date("2026-02-01T00:00:00Z") }));
    await plant("admin_adjustment", 50, "orphan-buy");
    await plant("spend", -3, "spend:orphan-other");
    await plant("spend", -4, "spend:orphan-same");
    await plant("admin_adjustment", 5, "admin_adjustment:orphan-adjust");
    const other = await spend({ amount: 4 }, "orphan-other", "orphaned");
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe("idempotency_key_reused");
    const same = await spend({ amount: 4 }, "orphan-same", "orphaned");
    expect(same.statusCode).toBe(201);
    expect(same.json()).toMatchObject({ entry: { amount: -4, idempotencyKey: "spend:orphan-same" }, wallet: { points: 50 - 3 - 4 + 5 } });
    const adjust = await t.app.inject({
      method: "POST",
      url: "/api/admin/wallets/orphaned/adjustments",
      headers: { ...t.as.admin, "idempotency-key": "orphan-adjust" },
      payload: { amount: 6, reason: "other content" },
    });
    expect(adjust.statusCode).toBe(409);
    expect(adjust.json().error.code).toBe("idempotency_key_reused");
    expect(await invariantViolations(db())).toEqual([]);
  });

  it("refuses a spend that would take the user's ledger sum past -10^15 with 409 balance_out_of_range, changing nothing", async () => {
    const BIG = 10 ** 12;
    // Heals of a wallet that drifted far above its ledger: the sum sits 5 points above -10^15.
    await withTransaction(db(), async (trx) => {
      await postEntries(trx, [
        { uid: "deep", kind: "purchase", amount: 10, idempotencyKey: "deep-buy", source: "test", now: new Date("2026-02-01T00:00:00Z") },
        ...Array.from({ length: 1000 }, (_, index) => ({ uid: "deep", kind: "reconcile_adjustment" as const, amount: -BIG, idempotencyKey: `deep-heal-${index}`, source: "test", now: new Date("2026-02-01T00:00:00Z") })),
        { uid: "deep", kind: "reconcile_adjustment", amount: -5, idempotencyKey: "deep-heal-last", source: "test", now: new Date("2026-02-01T00:00:00Z") },
      ]);
    });
    const before = await tableCounts(db());
    const refused = await spend({ amount: 10 }, "deep-1", "deep");
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: "balance_out_of_range", limit: 10 ** 15 });
    const after = await tableCounts(db());
    expect({ ...after, idempotency_records: before.idempotency_records }).toEqual(before);
    const allowed = await spend({ amount: 5 }, "deep-2", "deep");
    expect(allowed.statusCode).toBe(201);
    expect(allowed.json().wallet.points).toBe(5);
  });

  it("is ready when the database is reachable, migrated and of this environment", async () => {
    const ready = await t.app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect((await t.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    const prodApp = await buildTestApp(db(), {
      env: prodEnv(),
    });
    const notReady = await prodApp.app.inject({ method: "GET", url: "/readyz" });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().error.code).toBe("not_ready");
  });
});
