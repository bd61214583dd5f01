import { describe, expect, it } from "vitest";
import { postForm } from "../../test/support/adminClient.js";
import { PAGE_NOW, PLANTED } from "../../test/support/adminSeed.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { ENGINES } from "../../test/support/testDatabase.js";
import { useAdminPage } from "../../test/support/useAdminPage.js";

const chartJson = (body: string) => JSON.parse(/<script type="application\/json" id="chart-data">([^<]*)<\/script>/.exec(body)![1]!);
const rowsOf = (body: string, tableId: string) => {
  const table = new RegExp(`<table id="${tableId}">([\\s\\S]*?)</table>`).exec(body)?.[1] ?? "";
  return [...table.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].slice(1).map((row) =>
    [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!.replace(/<[^>]+>/g, "").trim()),
  );
};

/** The model of how the page writes an integer: every digit, thin-space groups, a real minus sign. */
const grouped = (value: number) => value.toLocaleString("en-US").replaceAll(",", "\u2009").replace("-", "\u2212");

for (const engine of ENGINES) {
  describe(`the /admin page [${engine}]`, () => {
    const suite = useAdminPage(engine);

    const unchanged = async (act: () => Promise<unknown>) => {
      const before = await tableHashes(suite.database.db);
      await act();
      expect(await tableHashes(suite.database.db)).toEqual(before);
    };

    it("without a login every page redirects to the login form and every action is refused 401", async () => {
      await unchanged(async () => {
        for (const url of ["/admin", "/admin/users/page_user_1", "/admin/migrations.json", "/admin/users?uid=page_user_1"]) {
          const page = await suite.app.inject({ method: "GET", url });
          expect([url, page.statusCode, page.headers.location]).toEqual([url, 303, "/admin/login"]);
          const json = await suite.app.inject({ method: "GET", url, headers: { accept: "application/json" } });
          expect([url, json.statusCode, json.json().error.code]).toEqual([url, 401, "unauthenticated"]);
        }
        const actions = [`/admin/events/${suite.seed.failedEventId}/replay`, "/admin/flags/adjustments_frozen", "/admin/users/page_user_1/adjustments", "/admin/logout"];
        for (const url of actions) {
          const fields = { csrf: suite.session.csrf, value: "true", amount: "5", reason: "x", idempotencyKey: "k-anon" };
          const json = await postForm(suite.app, url, fields, { json: true });
          expect([url, json.statusCode, json.json().error.code]).toEqual([url, 401, "unauthenticated"]);
          const form = await postForm(suite.app, url, fields);
          expect([url, form.statusCode, form.headers.location]).toEqual([url, 303, "/admin/login?refused=unauthenticated"]);
        }
      });
      for (const url of ["/admin", "/admin/users/page_user_1"]) {
        const service = await suite.app.inject({ method: "GET", url, headers: { cookie: `reckon_admin=${suite.seed.service}` } });
        expect([url, service.statusCode]).toEqual([url, 403]);
        expect(service.body).toContain('<code class="code">forbidden</code>');
        expect(service.body).not.toContain("page_user_1</code></h1>");
      }
      const login = await suite.app.inject({ method: "GET", url: "/admin/login" });
      expect(login.statusCode).toBe(200);
      expect(login.body).toContain('action="/admin/login"');
    });

    it("login keeps the token in an HttpOnly, SameSite=Strict cookie for /admin only; other tokens get no cookie", async () => {
      const login = await postForm(suite.app, "/admin/login", { token: suite.seed.admin });
      expect([login.statusCode, login.headers.location]).toEqual([303, "/admin"]);
      const attributes = String(login.headers["set-cookie"]).split(";").map((part) => part.trim().toLowerCase());
      expect(attributes).toEqual(expect.arrayContaining(["httponly", "samesite=strict", "path=/admin", "max-age=28800"]));
      for (const [token, status, code] of [
        [suite.seed.service, 403, "forbidden"],
        ["rk_admin_not-a-real-token", 401, "unauthenticated"],
        ["", 400, "invalid_body"],
      ] as const) {
        const refused = await postForm(suite.app, "/admin/login", { token }, { json: true });
        expect([refused.statusCode, refused.json().error.code, refused.headers["set-cookie"]]).toEqual([status, code, undefined]);
      }
    });

    it("the overview shows the runs, top deltas, verify status, stuck events, backfill runs and flags from the suite.database", async () => {
      const page = await suite.app.inject({ method: "GET", url: "/admin", headers: { cookie: suite.session.cookie } });
      expect(page.statusCode).toBe(200);
      expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
      // The model: one point per day of the 30 ending today; a planted day has its drift count and |sum|, others none.
      const charts = chartJson(page.body);
      expect(charts.days).toHaveLength(30);
      const today = Date.parse(`${PAGE_NOW.toISOString().slice(0, 10)}T00:00:00Z`) / 1000;
      expect(charts.days.at(-1)).toBe(today);
      const expected = charts.days.map((day: number) => {
        const drifts = PLANTED[new Date(day * 1000).toISOString().slice(0, 10)];
        return drifts ? [Object.keys(drifts).length, Object.values(drifts).reduce((sum, drift) => sum + Math.abs(drift), 0)] : [null, null];
      });
      expect(charts.violations.map((value: number | null, index: number) => [value, charts.adjustments[index]])).toEqual(expected);
      // Each user bought 500 × index units of 50 points; the last run found the 2026-03-09 drifts.
      const lastDrifts = Object.entries(PLANTED["2026-03-09"]!).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
      expect(rowsOf(page.body, "top-deltas")).toEqual(
        lastDrifts.map(([uid, drift]) => {
          const ledger = 25_000 * Number(uid.slice(-1));
          return [uid, grouped(ledger + drift), grouped(ledger), (drift > 0 ? "+" : "") + grouped(drift), "adjusted"];
        }),
      );
      expect(page.body).toContain('href="/admin/users/page_user_4?date=2026-03-09"');
      expect(/id="verify-verdict">(\w+)</.exec(page.body)?.[1]).toBe("unsigned");
      const events = rowsOf(page.body, "events-table");
      expect(events.map((row) => [Number(row[0]), row[4], row[5]])).toEqual([
        [suite.seed.parkedEventId, "parked", expect.stringMatching(/^waiting for paynow:order:/)],
        [suite.seed.failedEventId, "failed", "unknown_product"],
      ]);
      const migrations = rowsOf(page.body, "migrations-table");
      expect(migrations.map((row) => [row[0], row[3]])).toEqual([[suite.seed.migrationId, "completed"]]);
      expect(rowsOf(page.body, "flags-table").map((row) => [row[0], row[1]])).toEqual([["adjustments_frozen", "off"]]);
    });
  });
}
