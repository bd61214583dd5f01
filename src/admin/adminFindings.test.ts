import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFinding, storeFindings } from "../providerSync/storeFindings.js";
import { withTransaction } from "../storage/withTransaction.js";
import { logIn, postForm, type PageSession } from "../../test/support/adminClient.js";
import { PAGE_NOW, seedAdminPage, UNCLAIMED_POINTS, type AdminSeed } from "../../test/support/adminSeed.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { flakeId, walletPoints } from "../../test/support/webhookFixtures.js";

for (const engine of ENGINES) {
  describe(`provider findings on the /admin page [${engine}]`, () => {
    let database: TestDatabase;
    let seed: AdminSeed;
    let app: FastifyInstance;
    let session: PageSession;

    beforeAll(async () => {
      database = await createTestDatabase(engine);
      seed = await seedAdminPage(database.db);
      app = seed.harness.app;
      session = await logIn(app, seed.admin);
    });
    afterAll(async () => {
      await app.close();
      await database.drop();
    });

    const page = (url: string, cookie = session.cookie) => app.inject({ method: "GET", url, headers: { cookie } });
    const resolveUrl = (id: string) => `/admin/provider-findings/${id}/resolve`;
    const resolveAudits = () => database.db.kysely.selectFrom("audit_log").select(["actor", "subject", "details"]).where("action", "=", "provider_finding.resolve").orderBy("id").execute();

    /** Another paid order that named no user, as a sync stores it. */
    async function plantUnclaimed(quantity: number): Promise<string> {
      const purchaseKey = `paynow:order:${flakeId()}`;
      const credit = { kind: "credit", purchaseKey, purchaseRefs: [purchaseKey], uid: null, lines: [{ catalogueIds: ["P50"], quantity }], paidMinor: quantity * 500 };
      const draft = { provider: "paynow" as const, kind: "paid_not_credited" as const, subject: purchaseKey, status: "open" as const, date: "2026-03-09", uid: null, amountMinor: quantity * 500, detail: { credit } };
      await withTransaction(database.db, (trx) => storeFindings(trx, "test-sync", [draft], PAGE_NOW));
      const row = await database.db.kysely.selectFrom("provider_findings").select("id").where("subject", "=", purchaseKey).executeTakeFirstOrThrow();
      return row.id;
    }

    it("without a session the list and the action send a browser to the login form and a script gets 401", async () => {
      const before = await tableHashes(database.db);
      expect((await page("/admin/findings", "")).headers.location).toBe("/admin/login");
      const json = await app.inject({ method: "GET", url: "/admin/findings", headers: { accept: "application/json" } });
      expect([json.statusCode, json.json().error.code]).toEqual([401, "unauthenticated"]);
      const posted = await postForm(app, resolveUrl(seed.unclaimedFindingId), { csrf: session.csrf, uid: "page_claimer" });
      expect([posted.statusCode, posted.headers.location]).toEqual([303, "/admin/login?refused=unauthenticated"]);
      expect(await tableHashes(database.db)).toEqual(before);
    });

    it("lists open findings with everything known and a credit form; a standing report shows without an action; the filter narrows", async () => {
      const open = await page("/admin/findings?status=open");
      expect(open.statusCode).toBe(200);
      const row = new RegExp(`<tr data-finding-id="${seed.unclaimedFindingId}" data-finding-status="open">[\\s\\S]*?</tr>`).exec(open.body)?.[0];
      expect(row).toMatch(/<td>paynow<\/td><td><code>paid_not_credited<\/code><\/td><td class="wrap"><code>paynow:order:\d+<\/code><\/td>/);
      expect(row).toContain('<td class="num">1\u2009500</td>\n<td>2026-03-09</td>');
      expect(row).toContain(`action="/admin/provider-findings/${seed.unclaimedFindingId}/resolve"`);
      expect(row).toContain(`name="csrf" value="${session.csrf}"`);
      expect(open.body).not.toContain(seed.reportedFindingId);

      const reported = await page("/admin/findings?status=reported&provider=paynow&date=2026-03-09");
      const reportedRow = new RegExp(`<tr data-finding-id="${seed.reportedFindingId}"[\\s\\S]*?</tr>`).exec(reported.body)?.[0];
      expect(reportedRow).toContain("credited_not_paid");
      expect(reportedRow).toContain('href="/admin/users/page_user_1"');
      expect(reportedRow).toContain("reported only; never healed automatically");
      expect(reportedRow).not.toContain("<form");

      // The filter form sends empty fields for "any".
      const any = await page("/admin/findings?date=&status=&provider=");
      expect(any.body).toContain(seed.unclaimedFindingId);
      expect(any.body).toContain(seed.reportedFindingId);
      expect((await page("/admin/findings?date=2026-03-08")).body).toContain("No finding matches.");
      const refused = await app.inject({ method: "GET", url: "/admin/findings?status=closed", headers: { cookie: session.cookie, accept: "application/json" } });
      expect([refused.statusCode, refused.json().error.code]).toEqual([400, "invalid_query"]);
    });

    it("bad input on the resolve action gets its stable code and changes nothing", async () => {
      const other = await logIn(app, seed.otherAdmin);
      const unclaimed = resolveUrl(seed.unclaimedFindingId);
      const cookie = { cookie: session.cookie };
      const cases: [string, string, Record<string, string>, { cookie: string }, number, string][] = [
        ["forged CSRF", unclaimed, { csrf: "A".repeat(43), uid: "page_claimer" }, cookie, 403, "csrf_invalid"],
        ["missing CSRF", unclaimed, { uid: "page_claimer" }, cookie, 403, "csrf_missing"],
        ["CSRF of another session", unclaimed, { csrf: other.csrf, uid: "page_claimer" }, cookie, 403, "csrf_invalid"],
        ["non-admin token", unclaimed, { csrf: session.csrf, uid: "page_claimer" }, { cookie: `reckon_admin=${seed.service}` }, 403, "forbidden"],
        ["unknown finding", resolveUrl("pf_20260309T000000_0000000000"), { csrf: session.csrf, uid: "page_claimer" }, cookie, 404, "finding_not_found"],
        ["malformed finding id", resolveUrl("pf-1;drop"), { csrf: session.csrf, uid: "page_claimer" }, cookie, 400, "invalid_finding_id"],
        ["no uid", unclaimed, { csrf: session.csrf }, cookie, 400, "uid_required"],
        ["empty uid", unclaimed, { csrf: session.csrf, uid: "" }, cookie, 400, "uid_required"],
        ["uid with a space", unclaimed, { csrf: session.csrf, uid: "page claimer" }, cookie, 400, "uid_required"],
        ["uid of 129 characters", unclaimed, { csrf: session.csrf, uid: "u".repeat(129) }, cookie, 400, "uid_required"],
        ["extra field", unclaimed, { csrf: session.csrf, uid: "page_claimer", amount: "1000" }, cookie, 400, "unknown_field"],
        ["a standing report", resolveUrl(seed.reportedFindingId), { csrf: session.csrf, uid: "page_claimer" }, cookie, 409, "finding_not_open"],
      ];
      const before = await tableHashes(database.db);
      for (const [name, url, fields, options, status, code] of cases) {
        const response = await postForm(app, url, fields, { ...options, json: true });
        expect([name, response.statusCode, response.json().error.code]).toEqual([name, status, code]);
        const form = await postForm(app, url, fields, options);
        expect([name, form.statusCode, form.headers.location]).toEqual([name, 303, `/admin/findings?refused=${code}`]);
      }
      const raw: [string, string, number, string][] = [
        ["NUL in the uid", `csrf=${session.csrf}&uid=page%00claimer`, 400, "nul_character"],
        ["oversized form", `csrf=${session.csrf}&uid=${"u".repeat(17_000)}`, 413, "body_too_large"],
      ];
      for (const [name, payload, status, code] of raw) {
        const response = await app.inject({ method: "POST", url: unclaimed, payload, headers: { "content-type": "application/x-www-form-urlencoded", cookie: session.cookie, accept: "application/json" } });
        expect([name, response.statusCode, response.json().error.code]).toEqual([name, status, code]);
      }
      expect(await tableHashes(database.db)).toEqual(before);
      const refusedPage = await page("/admin/findings?refused=uid_required");
      expect(refusedPage.body).toMatch(/class="banner refused"[^>]*><code>uid_required<\/code> a credit needs a user id/);
    });

    it("credits the order to the uid given, through the live path, once, audited; the page says so and a second try is refused", async () => {
      expect(await walletPoints(database.db, "page_claimer")).toBeNull();
      const posted = await postForm(app, resolveUrl(seed.unclaimedFindingId), { csrf: session.csrf, uid: "page_claimer" }, { cookie: session.cookie });
      expect([posted.statusCode, posted.headers.location]).toEqual([303, `/admin/findings?done=resolved&finding=${seed.unclaimedFindingId}`]);
      expect(await walletPoints(database.db, "page_claimer")).toBe(UNCLAIMED_POINTS);
      expect(await readFinding(database.db.kysely, seed.unclaimedFindingId)).toMatchObject({ status: "resolved", uid: "page_claimer", closedBy: "token:page-admin" });
      const banner = await page(posted.headers.location!);
      expect(banner.body).toMatch(new RegExp(`class="banner done"[^>]*>Finding ${seed.unclaimedFindingId} \\(paynow paid_not_credited paynow:order:\\d+\\) is now resolved\\. Credited to page_claimer\\.`));
      const entry = await database.db.kysely.selectFrom("ledger_entries").select(["amount", "source_ref"]).where("uid", "=", "page_claimer").execute();
      expect(entry).toEqual([{ amount: UNCLAIMED_POINTS, source_ref: `paynow:finding:${seed.unclaimedFindingId}` }]);

      const before = await tableHashes(database.db);
      const again = await postForm(app, resolveUrl(seed.unclaimedFindingId), { csrf: session.csrf, uid: "someone_else" }, { cookie: session.cookie, json: true });
      expect([again.statusCode, again.json().error.code, again.json().error.status]).toEqual([409, "finding_not_open", "resolved"]);
      expect(await tableHashes(database.db)).toEqual(before);
      expect((await resolveAudits()).map((row) => ({ ...row, details: JSON.parse(row.details) }))).toEqual([
        { actor: "token:page-admin", subject: seed.unclaimedFindingId, details: expect.objectContaining({ kind: "paid_not_credited", uid: "page_claimer" }) },
      ]);
    });

    it("two admins resolving the same finding at once credit it once: one is told it is resolved, the other is refused", async () => {
      const id = await plantUnclaimed(2);
      const other = await logIn(app, seed.otherAdmin);
      const audited = (await resolveAudits()).length;
      const answers = await Promise.all([
        postForm(app, resolveUrl(id), { csrf: session.csrf, uid: "page_race_a" }, { cookie: session.cookie, json: true }),
        postForm(app, resolveUrl(id), { csrf: other.csrf, uid: "page_race_b" }, { cookie: other.cookie, json: true }),
      ]);
      const statuses = answers.map((answer) => answer.statusCode).sort();
      expect(statuses).toEqual([200, 409]);
      const refused = answers.find((answer) => answer.statusCode === 409)!.json().error.code;
      expect(["finding_not_open", "finding_not_applied"]).toContain(refused);
      const winner = answers.find((answer) => answer.statusCode === 200)!.json().finding.uid as string;
      const loser = winner === "page_race_a" ? "page_race_b" : "page_race_a";
      expect([await walletPoints(database.db, winner), await walletPoints(database.db, loser)]).toEqual([100, null]);
      expect(await readFinding(database.db.kysely, id)).toMatchObject({ status: "resolved", uid: winner });
      expect((await resolveAudits()).length).toBe(audited + 1);
    });
  });
}
