import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken, revokeApiToken } from "../auth/apiTokens.js";
import { withTransaction } from "../storage/withTransaction.js";
import { logIn, postForm, type PageSession } from "../../test/support/adminClient.js";
import { PAGE_NOW, seedAdminPage, type AdminSeed } from "../../test/support/adminSeed.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { allowEntriesFor, refuseEntriesFor } from "../../test/support/refuseEntries.js";
import { catalogue, eventRow, flakeId, paynowOrder, sendPaynow, walletPoints } from "../../test/support/webhookFixtures.js";

for (const engine of ENGINES) {
  describe(`the /admin page's actions [${engine}]`, () => {
    let database: TestDatabase;
    let seed: AdminSeed;
    let app: FastifyInstance;
    let session: PageSession;
    let other: PageSession;

    beforeAll(async () => {
      database = await createTestDatabase(engine);
      seed = await seedAdminPage(database.db);
      app = seed.harness.app;
      session = await logIn(app, seed.admin);
      other = await logIn(app, seed.otherAdmin);
    });
    afterAll(async () => {
      await app.close();
      await database.drop();
    });

    const audits = (action: string) =>
      database.db.kysely.selectFrom("audit_log").select(["actor", "subject", "details"]).where("action", "=", action).orderBy("id").execute();

    it("bad input on every action gets its stable code and changes nothing", async () => {
      const serviceCookie = `reckon_admin=${seed.service}`;
      const revoked = await createApiToken(database.db.kysely, { role: "admin", name: "page-revoked", now: PAGE_NOW });
      await withTransaction(database.db, (trx) => revokeApiToken(trx, { id: revoked.id, actor: "cli:test", now: PAGE_NOW }));
      const replay = `/admin/events/${seed.failedEventId}/replay`;
      const adjust = "/admin/users/page_user_1/adjustments";
      const adjustment = { amount: "10", reason: "goodwill", idempotencyKey: "bad-input-1" };
      const cases: [string, string, Record<string, string>, { cookie: string; headers?: Record<string, string> }, number, string][] = [
        ["forged CSRF", replay, { csrf: "A".repeat(43) }, { cookie: session.cookie }, 403, "csrf_invalid"],
        ["missing CSRF", replay, {}, { cookie: session.cookie }, 403, "csrf_missing"],
        ["CSRF of another session", replay, { csrf: other.csrf }, { cookie: session.cookie }, 403, "csrf_invalid"],
        ["cookie of another token", "/admin/flags/adjustments_frozen", { csrf: session.csrf, value: "true" }, { cookie: other.cookie }, 403, "csrf_invalid"],
        ["non-admin token", replay, { csrf: session.csrf }, { cookie: serviceCookie }, 403, "forbidden"],
        ["revoked token", replay, { csrf: session.csrf }, { cookie: `reckon_admin=${revoked.token}` }, 401, "unauthenticated"],
        ["unknown event id", "/admin/events/987654321/replay", { csrf: session.csrf }, { cookie: session.cookie }, 404, "event_not_found"],
        ["malformed event id", "/admin/events/12abc/replay", { csrf: session.csrf }, { cookie: session.cookie }, 400, "invalid_event_id"],
        ["unknown flag", "/admin/flags/no_such_flag", { csrf: session.csrf, value: "true" }, { cookie: session.cookie }, 404, "unknown_flag"],
        ["flag value not a boolean", "/admin/flags/adjustments_frozen", { csrf: session.csrf, value: "yes" }, { cookie: session.cookie }, 400, "invalid_body"],
        ["fractional points", adjust, { csrf: session.csrf, ...adjustment, amount: "1.5" }, { cookie: session.cookie }, 400, "invalid_body"],
        ["zero points", adjust, { csrf: session.csrf, ...adjustment, amount: "0" }, { cookie: session.cookie }, 400, "invalid_body"],
        ["empty reason", adjust, { csrf: session.csrf, ...adjustment, reason: " " }, { cookie: session.cookie }, 400, "invalid_body"],
        ["extra field", adjust, { csrf: session.csrf, ...adjustment, uid: "someone_else" }, { cookie: session.cookie }, 400, "unknown_field"],
        ["bad user id", "/admin/users/bad%20uid/adjustments", { csrf: session.csrf, ...adjustment }, { cookie: session.cookie }, 400, "invalid_uid"],
        ["cross-site form post", replay, { csrf: session.csrf }, { cookie: session.cookie, headers: { "sec-fetch-site": "cross-site" } }, 403, "cross_site_request"],
      ];
      const before = await tableHashes(database.db);
      for (const [name, url, fields, options, status, code] of cases) {
        const response = await postForm(app, url, fields, { ...options, json: true });
        expect([name, response.statusCode, response.json().error.code]).toEqual([name, status, code]);
        const form = await postForm(app, url, fields, options);
        expect([name, form.statusCode]).toEqual([name, 303]);
        expect(form.headers.location).toMatch(new RegExp(`\\?refused=${code}$`));
      }
      const raw: [string, string, string, number, string][] = [
        ["oversized form", "application/x-www-form-urlencoded", `csrf=${session.csrf}&reason=${"x".repeat(17_000)}`, 413, "body_too_large"],
        ["NUL in a field", "application/x-www-form-urlencoded", `csrf=${session.csrf}&amount=5&reason=a%00b&idempotencyKey=nul-1`, 400, "nul_character"],
        ["broken JSON", "application/json", `{"csrf":"${session.csrf}",`, 400, "invalid_json"],
      ];
      for (const [name, type, payload, status, code] of raw) {
        const response = await app.inject({
          method: "POST",
          url: adjust,
          payload,
          headers: { "content-type": type, cookie: session.cookie, accept: "application/json" },
        });
        expect([name, response.statusCode, response.json().error.code]).toEqual([name, status, code]);
      }
      expect(await tableHashes(database.db)).toEqual(before);
    });

    it("a debit beyond the wallet is refused and moves no points; the refusal is remembered under its key, as the API does", async () => {
      const before = await tableHashes(database.db, ["idempotency_records"]);
      const form = { csrf: session.csrf, amount: "-999999999", reason: "claw back", idempotencyKey: "too-much-1" };
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await postForm(app, "/admin/users/page_user_1/adjustments", form, { cookie: session.cookie, json: true });
        expect([response.statusCode, response.json().error.code]).toEqual([409, "insufficient_points"]);
      }
      expect(await tableHashes(database.db, ["idempotency_records"])).toEqual(before);
    });

    it("a refused form post goes back to its page, which names the refusal with its code", async () => {
      const refused = await postForm(app, "/admin/events/987654321/replay", { csrf: session.csrf }, { cookie: session.cookie });
      expect(refused.headers.location).toBe("/admin?refused=event_not_found");
      const page = await app.inject({ method: "GET", url: refused.headers.location!, headers: { cookie: session.cookie } });
      expect(page.body).toMatch(/class="banner refused"[^>]*><code>event_not_found<\/code> no stored event has that id/);
    });

    it("replay applies a failed event through the live path, once, audited, and the page then says processed", async () => {
      expect(await walletPoints(database.db, "page_user_6")).toBeNull();
      const replayed = await postForm(app, `/admin/events/${seed.failedEventId}/replay`, { csrf: session.csrf }, { cookie: session.cookie });
      expect([replayed.statusCode, replayed.headers.location]).toEqual([303, `/admin?done=replayed&event=${seed.failedEventId}`]);
      expect(await walletPoints(database.db, "page_user_6")).toBe(120);
      const page = await app.inject({ method: "GET", url: replayed.headers.location!, headers: { cookie: session.cookie } });
      expect(page.body).toContain(`Event #${seed.failedEventId} (paynow`);
      expect(page.body).toMatch(/replayed: now processed\./);
      expect(page.body).not.toContain(`data-event-id="${seed.failedEventId}"`);
      const again = await postForm(app, `/admin/events/${seed.failedEventId}/replay`, { csrf: session.csrf }, { cookie: session.cookie, json: true });
      expect([again.statusCode, again.json().error.code, again.json().error.status]).toEqual([409, "event_not_replayable", "processed"]);
      expect(await walletPoints(database.db, "page_user_6")).toBe(120);
      const rows = await audits("webhook_event.replay");
      expect(rows.map((row) => ({ ...row, details: JSON.parse(row.details) }))).toEqual([
        { actor: "token:page-admin", subject: `webhook_event:${seed.failedEventId}`, details: expect.objectContaining({ provider: "paynow", from: "failed", to: "processed" }) },
      ]);
    });

    it("a replay that throws records the event failed internal_error, audited, and a later replay applies it", async () => {
      const order = paynowOrder({ orderId: flakeId(), uid: "page_poison", lines: [{ productId: "P_LATE", quantity: 2 }] });
      await sendPaynow(seed.harness, order);
      await catalogue(database.db, "paynow", "P_LATE", 30);
      const id = (await eventRow(database.db, "paynow", order.event_id))!.id;
      await refuseEntriesFor(database.db, "page_poison");
      try {
        const thrown = await postForm(app, `/admin/events/${id}/replay`, { csrf: session.csrf }, { cookie: session.cookie, json: true });
        expect(thrown.statusCode).toBe(200);
        expect(thrown.json()).toMatchObject({ from: "failed", status: "failed", reason: "internal_error", detail: expect.stringContaining("refused by test trigger") });
        expect(await eventRow(database.db, "paynow", order.event_id)).toMatchObject({ status: "failed", failure_reason: "internal_error", attempts: 2 });
        expect(await walletPoints(database.db, "page_poison")).toBeNull();
      } finally {
        await allowEntriesFor(database.db, "page_poison");
      }
      const applied = await postForm(app, `/admin/events/${id}/replay`, { csrf: session.csrf }, { cookie: session.cookie, json: true });
      expect(applied.json()).toMatchObject({ from: "failed", status: "processed" });
      expect(await walletPoints(database.db, "page_poison")).toBe(60);
      const subjects = (await audits("webhook_event.replay")).filter((row) => row.subject === `webhook_event:${id}`);
      expect(subjects.map((row) => JSON.parse(row.details).to)).toEqual(["failed", "processed"]);
    });

    it("replaying a parked refund whose order never came leaves it parked and says so", async () => {
      const response = await postForm(app, `/admin/events/${seed.parkedEventId}/replay`, { csrf: session.csrf }, { cookie: session.cookie, json: true });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ outcome: "replayed", from: "parked", status: "parked", waitingFor: expect.stringMatching(/^paynow:order:/) });
    });

    it("freezing from the page refuses manual adjustments from the page and the API; unfreezing lets the same form through", async () => {
      const form = { csrf: session.csrf, amount: "25", reason: "goodwill after outage", idempotencyKey: "page-freeze-1" };
      const frozen = await postForm(app, "/admin/flags/adjustments_frozen", { csrf: session.csrf, value: "true" }, { cookie: session.cookie });
      expect([frozen.statusCode, frozen.headers.location]).toEqual([303, "/admin?done=flag&name=adjustments_frozen"]);
      const before = await tableHashes(database.db);
      const refused = await postForm(app, "/admin/users/page_user_1/adjustments", form, { cookie: session.cookie });
      expect(refused.headers.location).toBe("/admin/users/page_user_1?refused=adjustments_frozen");
      const viaApi = await app.inject({
        method: "POST",
        url: "/api/admin/wallets/page_user_1/adjustments",
        headers: { authorization: `Bearer ${seed.admin}`, "idempotency-key": "api-freeze-1" },
        payload: { amount: 25, reason: "goodwill" },
      });
      expect([viaApi.statusCode, viaApi.json().error.code]).toEqual([423, "adjustments_frozen"]);
      expect(await tableHashes(database.db)).toEqual(before);
      const points = await walletPoints(database.db, "page_user_1");
      await postForm(app, "/admin/flags/adjustments_frozen", { csrf: session.csrf, value: "false" }, { cookie: session.cookie });
      const posted = await postForm(app, "/admin/users/page_user_1/adjustments", form, { cookie: session.cookie });
      expect(posted.headers.location).toMatch(/^\/admin\/users\/page_user_1\?done=adjusted&entry=\d+$/);
      const resent = await postForm(app, "/admin/users/page_user_1/adjustments", form, { cookie: session.cookie });
      expect(resent.headers.location).toBe(posted.headers.location);
      expect(await walletPoints(database.db, "page_user_1")).toBe(points! + 25);
      expect((await audits("flag.set")).map((row) => [row.actor, JSON.parse(row.details).to])).toEqual([
        ["token:page-admin", true],
        ["token:page-admin", false],
      ]);
      expect((await audits("wallet.adjust")).map((row) => [row.actor, row.subject, JSON.parse(row.details).amount])).toEqual([["token:page-admin", "page_user_1", 25]]);
    });

    it("logging out ends the session's cookie; the page then asks for a login", async () => {
      const third = await logIn(app, seed.admin);
      const out = await postForm(app, "/admin/logout", { csrf: third.csrf }, { cookie: third.cookie });
      expect([out.statusCode, out.headers.location]).toEqual([303, "/admin/login"]);
      expect(String(out.headers["set-cookie"])).toMatch(/^reckon_admin=;/);
    });
  });
}
