import { describe, expect, it } from "vitest";
import { readFinding, storeFindings } from "../providerSync/storeFindings.js";
import { withTransaction } from "../storage/withTransaction.js";
import { logIn, postForm } from "../../test/support/adminClient.js";
import { PAGE_NOW, UNCLAIMED_POINTS } from "../../test/support/adminSeed.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { ENGINES } from "../../test/support/testDatabase.js";
import { useAdminPage } from "../../test/support/useAdminPage.js";
import { flakeId, walletPoints } from "../../test/support/webhookFixtures.js";

for (const engine of ENGINES) {
  describe(`provider findings on the /admin page [${engine}]`, () => {
    const suite = useAdminPage(engine);

    const page = (url: string, cookie = suite.session.cookie) => suite.app.inject({ method: "GET", url, headers: { cookie } });
    const resolveUrl = (id: string) => `/admin/provider-findings/${id}/resolve`;
    const resolveAudits = () => suite.database.db.kysely.selectFrom("audit_log").select(["actor", "subject", "details"]).where("action", "=", "provider_finding.resolve").orderBy("id").execute();

    /** Another paid order that named no user, as a sync stores it. */
    async function plantUnclaimed(quantity: number): Promise<string> {
      const purchaseKey = `paynow:order:${flakeId()}`;
      const credit = { kind: "credit", purchaseKey, purchaseRefs: [purchaseKey], uid: null, lines: [{ catalogueIds: ["P50"], quantity }], paidMinor: quantity * 500 };
      const draft = { provider: "paynow" as const, kind: "paid_not_credited" as const, subject: purchaseKey, status: "open" as const, date: "2026-03-09", uid: null, amountMinor: quantity * 500, detail: { credit } };
      await withTransaction(suite.database.db, (trx) => storeFindings(trx, "test-sync", [draft], PAGE_NOW));
      const row = await suite.database.db.kysely.selectFrom("provider_findings").select("id").where("subject", "=", purchaseKey).executeTakeFirstOrThrow();
      return row.id;
    }

    it("without a suite.session the list and the action send a browser to the login form and a script gets 401", async () => {
      const before = await tableHashes(suite.database.db);
      expect((await page("/admin/findings", "")).headers.location).toBe("/admin/login");
      const json = await suite.app.inject({ method: "GET", url: "/admin/findings", headers: { accept: "application/json" } });
      expect([json.statusCode, json.json().error.code]).toEqual([401, "unauthenticated"]);
      const posted = await postForm(suite.app, resolveUrl(suite.seed.unclaimedFindingId), { csrf: suite.session.csrf, uid: "page_claimer" });
      expect([posted.statusCode, posted.headers.location]).toEqual([303, "/admin/login?refused=unauthenticated"]);
      expect(await tableHashes(suite.database.db)).toEqual(before);
    });

    it("lists open findings with everything known and a credit form; a standing report shows without an action; the filter narrows", async () => {
      expect((await page("/admin")).body).toContain('<a id="open-findings" href="/admin/findings?status=open">1 open provider finding</a>');
      const open = await page("/admin/findings?status=open");
      expect(open.statusCode).toBe(200);
      const row = new RegExp(`<tr data-finding-id="${suite.seed.unclaimedFindingId}" data-finding-status="open">[\\s\\S]*?</tr>`).exec(open.body)?.[0];
      expect(row).toMatch(/<td>paynow<\/td><td><code>paid_not_credited<\/code><\/td><td class="wrap"><code>paynow:order:\d+<\/code><\/td>/);
      expect(row).toContain('<td class="num">1\u2009500 EUR</td>\n<td>2026-03-09</td>');
      expect(row).toContain(`action="/admin/provider-findings/${suite.seed.unclaimedFindingId}/resolve"`);
      expect(row).toContain(`name="csrf" value="${suite.session.csrf}"`);
      expect(open.body).not.toContain(suite.seed.reportedFindingId);

      const reported = await page("/admin/findings?status=reported&provider=paynow&date=2026-03-09");
      const reportedRow = new RegExp(`<tr data-finding-id="${suite.seed.reportedFindingId}"[\\s\\S]*?</tr>`).exec(reported.body)?.[0];
      expect(reportedRow).toContain("credited_not_paid");
      expect(reportedRow).toContain('href="/admin/users/page_user_1"');
      expect(reportedRow).toContain("reported only; never healed automatically");
      expect(reportedRow).not.toContain("<form");

      // The filter form sends empty fields for "any".
      const any = await page("/admin/findings?date=&status=&provider=");
      expect(any.body).toContain(suite.seed.unclaimedFindingId);
      expect(any.body).toContain(suite.seed.reportedFindingId);
      expect((await page("/admin/findings?date=2026-03-08")).body).toContain("No finding matches.");
      const refused = await suite.app.inject({ method: "GET", url: "/admin/findings?status=closed", headers: { cookie: suite.session.cookie, accept: "application/json" } });
      expect([refused.statusCode, refused.json().error.code]).toEqual([400, "invalid_query"]);
    });

    it("bad input on the resolve action gets its stable code and changes nothing", async () => {
      const other = await logIn(suite.app, suite.seed.otherAdmin);
      const unclaimed = resolveUrl(suite.seed.unclaimedFindingId);
      const cookie = { cookie: suite.session.cookie };
      const cases: [string, string, Record<string, string>, { cookie: string }, number, string][] = [
        ["forged CSRF", unclaimed, { csrf: "A".repeat(43), uid: "page_claimer" }, cookie, 403, "csrf_invalid"],
        ["missing CSRF", unclaimed, { uid: "page_claimer" }, cookie, 403, "csrf_missing"],
        ["CSRF of another suite.session", unclaimed, { csrf: other.csrf, uid: "page_claimer" }, cookie, 403, "csrf_invalid"],
        ["non-admin token", unclaimed, { csrf: suite.session.csrf, uid: "page_claimer" }, { cookie: `reckon_admin=${suite.seed.service}` }, 403, "forbidden"],
        ["unknown finding", resolveUrl("pf_20260309T000000_0000000000"), { csrf: suite.session.csrf, uid: "page_claimer" }, cookie, 404, "finding_not_found"],
        ["malformed finding id", resolveUrl("pf-1;drop"), { csrf: suite.session.csrf, uid: "page_claimer" }, cookie, 400, "invalid_finding_id"],
        ["no uid", unclaimed, { csrf: suite.session.csrf }, cookie, 400, "uid_required"],
        ["empty uid", unclaimed, { csrf: suite.session.csrf, uid: "" }, cookie, 400, "uid_required"],
        ["uid with a space", unclaimed, { csrf: suite.session.csrf, uid: "page claimer" }, cookie, 400, "uid_required"],
        ["uid of 129 characters", unclaimed, { csrf: suite.session.csrf, uid: "u".repeat(129) }, cookie, 400, "uid_required"],
        ["extra field", unclaimed, { csrf: suite.session.csrf, uid: "page_claimer", amount: "1000" }, cookie, 400, "unknown_field"],
        ["a standing report", resolveUrl(suite.seed.reportedFindingId), { csrf: suite.session.csrf, uid: "page_claimer" }, cookie, 409, "finding_not_open"],
      ];
      const before = await tableHashes(suite.database.db);
      for (const [name, url, fields, options, status, code] of cases) {
        const response = await postForm(suite.app, url, fields, { ...options, json: true });
        expect([name, response.statusCode, response.json().error.code]).toEqual([name, status, code]);
        const form = await postForm(suite.app, url, fields, options);
        expect([name, form.statusCode, form.headers.location]).toEqual([name, 303, `/admin/findings?refused=${code}`]);
      }
      const raw: [string, string, number, string][] = [
        ["NUL in the uid", `csrf=${suite.session.csrf}&uid=page%00claimer`, 400, "nul_character"],
        ["oversized form", `csrf=${suite.session.csrf}&uid=${"u".repeat(17_000)}`, 413, "body_too_large"],
      ];
      for (const [name, payload, status, code] of raw) {
        const response = await suite.app.inject({ method: "POST", url: unclaimed, payload, headers: { "content-type": "application/x-www-form-urlencoded", cookie: suite.session.cookie, accept: "application/json" } });
        expect([name, response.statusCode, response.json().error.code]).toEqual([name, status, code]);
      }
      expect(await tableHashes(suite.database.db)).toEqual(before);
      const refusedPage = await page("/admin/findings?refused=uid_required");
      expect(refusedPage.body).toMatch(/class="banner refused"[^>]*><code>uid_required<\/code> a credit needs a user id/);
    });

    it("credits the order to the uid given, through the live path, once, audited; the page says so and a second try is refused", async () => {
      expect(await walletPoints(suite.database.db, "page_claimer")).toBeNull();
      const posted = await postForm(suite.app, resolveUrl(suite.seed.unclaimedFindingId), { csrf: suite.session.csrf, uid: "page_claimer" }, { cookie: suite.session.cookie });
      expect([posted.statusCode, posted.headers.location]).toEqual([303, `/admin/findings?done=resolved&finding=${suite.seed.unclaimedFindingId}`]);
      expect(await walletPoints(suite.database.db, "page_claimer")).toBe(UNCLAIMED_POINTS);
      expect(await readFinding(suite.database.db.kysely, suite.seed.unclaimedFindingId)).toMatchObject({ status: "resolved", uid: "page_claimer", closedBy: "token:page-admin" });
      const banner = await page(posted.headers.location!);
      expect(banner.body).toMatch(new RegExp(`class="banner done"[^>]*>Finding ${suite.seed.unclaimedFindingId} \\(paynow paid_not_credited paynow:order:\\d+\\) is now resolved\\. Credited to page_claimer\\.`));
      expect((await page("/admin")).body).toContain(">0 open provider findings</a>");
      const entry = await suite.database.db.kysely.selectFrom("ledger_entries").select(["amount", "source_ref"]).where("uid", "=", "page_claimer").execute();
      expect(entry).toEqual([{ amount: UNCLAIMED_POINTS, source_ref: `paynow:finding:${suite.seed.unclaimedFindingId}` }]);

      const before = await tableHashes(suite.database.db);
      const again = await postForm(suite.app, resolveUrl(suite.seed.unclaimedFindingId), { csrf: suite.session.csrf, uid: "someone_else" }, { cookie: suite.session.cookie, json: true });
      expect([again.statusCode, again.json().error.code, again.json().error.status]).toEqual([409, "finding_not_open", "resolved"]);
      expect(await tableHashes(suite.database.db)).toEqual(before);
      expect((await resolveAudits()).map((row) => ({ ...row, details: JSON.parse(row.details) }))).toEqual([
        { actor: "token:page-admin", subject: suite.seed.unclaimedFindingId, details: expect.objectContaining({ kind: "paid_not_credited", uid: "page_claimer" }) },
      ]);
    });

    it("a refund the sync could not apply is applied with one button: the purchase's points come off once, audited", async () => {
      const { db } = suite.database;
      const purchase = await db.kysely.selectFrom("webhook_purchases").select(["purchase_ref", "entry_id", "paid_minor"]).where("uid", "=", "page_user_3").executeTakeFirstOrThrow();
      const credited = await db.kysely.selectFrom("ledger_entries").select("amount").where("id", "=", Number(purchase.entry_id)).executeTakeFirstOrThrow();
      const refundKey = `paynow:refund:${flakeId()}`;
      const event = { kind: "refund", purchaseRef: purchase.purchase_ref, refunds: [{ refundKey, refundedMinor: Number(purchase.paid_minor) }] };
      const draft = { provider: "paynow" as const, kind: "refund_not_reversed" as const, subject: refundKey, status: "open" as const, date: "2026-03-09", uid: "page_user_3", amountMinor: Number(purchase.paid_minor), detail: { providerStatus: "completed", event } };
      await withTransaction(db, (trx) => storeFindings(trx, "test-sync", [draft], PAGE_NOW));
      const id = (await db.kysely.selectFrom("provider_findings").select("id").where("subject", "=", refundKey).executeTakeFirstOrThrow()).id;
      const listed = await page("/admin/findings?status=open");
      const row = new RegExp(`<tr data-finding-id="${id}"[\\s\\S]*?</tr>`).exec(listed.body)?.[0];
      expect(row).toContain('<button type="submit">Apply</button>');
      expect(row).not.toContain('name="uid"');

      const points = await walletPoints(db, "page_user_3");
      const applied = await postForm(suite.app, resolveUrl(id), { csrf: suite.session.csrf }, { cookie: suite.session.cookie });
      expect(applied.headers.location).toBe(`/admin/findings?done=resolved&finding=${id}`);
      expect(await walletPoints(db, "page_user_3")).toBe(points! - credited.amount);
      const again = await postForm(suite.app, resolveUrl(id), { csrf: suite.session.csrf }, { cookie: suite.session.cookie, json: true });
      expect([again.statusCode, again.json().error.code]).toEqual([409, "finding_not_open"]);
      expect(await walletPoints(db, "page_user_3")).toBe(points! - credited.amount);
      expect((await resolveAudits()).filter((audit) => audit.subject === id)).toHaveLength(1);
    });

    it("two admins resolving the same finding at once credit it once: one is told it is resolved, the other is refused", async () => {
      const id = await plantUnclaimed(2);
      const other = await logIn(suite.app, suite.seed.otherAdmin);
      const audited = (await resolveAudits()).length;
      const answers = await Promise.all([
        postForm(suite.app, resolveUrl(id), { csrf: suite.session.csrf, uid: "page_race_a" }, { cookie: suite.session.cookie, json: true }),
        postForm(suite.app, resolveUrl(id), { csrf: other.csrf, uid: "page_race_b" }, { cookie: other.cookie, json: true }),
      ]);
      const statuses = answers.map((answer) => answer.statusCode).sort();
      expect(statuses).toEqual([200, 409]);
      const refused = answers.find((answer) => answer.statusCode === 409)!.json().error.code;
      expect(["finding_not_open", "finding_not_applied"]).toContain(refused);
      const winner = answers.find((answer) => answer.statusCode === 200)!.json().finding.uid as string;
      const loser = winner === "page_race_a" ? "page_race_b" : "page_race_a";
      expect([await walletPoints(suite.database.db, winner), await walletPoints(suite.database.db, loser)]).toEqual([100, null]);
      expect(await readFinding(suite.database.db.kysely, id)).toMatchObject({ status: "resolved", uid: winner });
      expect((await resolveAudits()).length).toBe(audited + 1);
    });

    it("past 200 findings the page links to the next page; following the links lists every finding once, in the list's order; a page after an unknown finding is refused", async () => {
      const kysely = suite.database.db.kysely;
      // 230 standing reports over three days and several times found, so the order has ties to break.
      for (let batch = 0; batch < 10; batch++) {
        const now = new Date(Date.UTC(2026, 2, 10, 9, batch % 4));
        const drafts = Array.from({ length: 23 }, (_, index) => ({
          provider: "paynow" as const,
          kind: "credited_not_paid" as const,
          subject: `paynow:order:paging_${batch}_${index}`,
          status: "reported" as const,
          date: `2026-03-1${batch % 3}`,
          uid: null,
          amountMinor: 500,
          detail: {},
        }));
        await withTransaction(suite.database.db, (trx) => storeFindings(trx, "test-sync", drafts, now));
      }
      const all = await kysely.selectFrom("provider_findings").select(["id", "date", "found_at"]).where("status", "=", "reported").execute();
      const key = (row: { id: string; date: string; found_at: string }) => [row.date, row.found_at, row.id];
      const expected = all
        .sort((a, b) => {
          const [x, y] = [key(a), key(b)];
          for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
          return 0;
        })
        .map((row) => row.id);
      expect(expected.length).toBeGreaterThan(230);

      const seen: string[] = [];
      let url: string | null = "/admin/findings?status=reported";
      let pages = 0;
      while (url !== null) {
        const listed = await page(url);
        expect(listed.statusCode).toBe(200);
        seen.push(...[...listed.body.matchAll(/data-finding-id="([^"]+)"/g)].map((match) => match[1]!));
        const next = /<a id="findings-next" href="([^"]+)"/.exec(listed.body);
        url = next ? next[1]!.replaceAll("&amp;", "&") : null;
        if (pages > 0) expect(listed.body).toContain('id="findings-first" href="/admin/findings?status=reported"');
        pages += 1;
      }
      expect(pages).toBe(2);
      expect(seen).toEqual(expected);

      const before = await tableHashes(suite.database.db);
      const unknown = await suite.app.inject({ method: "GET", url: "/admin/findings?after=pf_20260310T0900_0000000000", headers: { cookie: suite.session.cookie, accept: "application/json" } });
      expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, "finding_not_found"]);
      const malformed = await suite.app.inject({ method: "GET", url: "/admin/findings?after=x%00y", headers: { cookie: suite.session.cookie, accept: "application/json" } });
      expect(malformed.statusCode).toBe(400);
      expect(await tableHashes(suite.database.db)).toEqual(before);
    });
  });
}
