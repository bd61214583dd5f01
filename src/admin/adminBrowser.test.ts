import { mkdirSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedAdminPage, UNCLAIMED_POINTS, type AdminSeed } from "../../test/support/adminSeed.js";
import { browserTestsRun, launchChromium } from "../../test/support/headlessChromium.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../../test/support/testDatabase.js";
import { walletPoints } from "../../test/support/webhookFixtures.js";

const SCREENSHOTS = ".test-results";

/** Waits, at most 10 s, for what the page shows to become `expected` (the page polls every 2 s). */
async function expectEventually(read: () => Promise<string>, expected: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen = await read();
  while (seen !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    seen = await read();
  }
  expect(seen).toBe(expected);
}

for (const engine of ENGINES) {
  describe.runIf(browserTestsRun())(`the /admin page in headless Chromium [${engine}]`, () => {
    let database: TestDatabase;
    let seed: AdminSeed;
    let app: FastifyInstance;
    let origin: string;
    let browser: Browser;
    let page: Page;
    const consoleErrors: string[] = [];
    const outsideRequests: string[] = [];

    beforeAll(async () => {
      database = await createTestDatabase(engine);
      seed = await seedAdminPage(database.db);
      app = seed.harness.app;
      origin = await app.listen({ host: "127.0.0.1", port: 0 });
    });
    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await database?.drop();
    });

    /** A fresh browser context on the login form, recording console errors and requests that leave the server. */
    async function openLoginPage(): Promise<Page> {
      // Launched in the test, so a missing browser under CI fails the test rather than skipping it.
      browser ??= await launchChromium();
      const opened = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      opened.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(message.text());
      });
      opened.on("pageerror", (error) => consoleErrors.push(`page error: ${error.message}`));
      opened.on("request", (request) => {
        const url = request.url();
        if (!url.startsWith(`${origin}/`) && !url.startsWith("data:")) outsideRequests.push(url);
      });
      return opened;
    }

    it("logs in, sees charts and tables from the database, follows a running backfill live, replays a failed event, freezes adjustments and sees one refused", async () => {
      page = await openLoginPage();
      // A backfill in progress: the page must follow its counts without a reload.
      const migration = () => database.db.kysely.updateTable("data_migrations").where("id", "=", seed.migrationId);
      await migration().set({ status: "running", finished_at: null }).execute();
      await page.goto(`${origin}/admin`);
      expect(new URL(page.url()).pathname).toBe("/admin/login");
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: `${SCREENSHOTS}/admin-login-${engine}.png` });
      await page.fill("#token", seed.admin);
      await Promise.all([page.waitForURL(`${origin}/admin`), page.click("section.login button[type=submit]")]);

      // Charts: uPlot draws each into a canvas; tables hold the seeded rows.
      await page.waitForSelector(".chart .uplot canvas");
      expect(await page.locator(".chart .uplot canvas").count()).toBe(2);
      expect(await page.locator("#top-deltas tbody tr").allInnerTexts()).toEqual([
        expect.stringMatching(/^page_user_4\s+1\u2009350\u2009000\s+100\u2009000\s+\+1\u2009250\u2009000\s+adjusted$/),
        expect.stringMatching(/^page_user_5\s+124\u2009991\s+125\u2009000\s+\u22129\s+adjusted$/),
      ]);
      expect(await page.locator(`#events-table tr[data-event-id="${seed.failedEventId}"]`).innerText()).toContain("unknown_product");
      const scanned = page.locator(`#migrations-table tr[data-migration-id="${seed.migrationId}"] [data-field="scanned"]`);
      expect(await scanned.innerText()).toBe("2");
      await migration().set({ scanned: 1_234_567, updated_at: "2026-03-10T12:00:07.000Z" }).execute();
      await expectEventually(() => scanned.innerText(), "1\u2009234\u2009567");
      await migration().set({ status: "completed", finished_at: "2026-03-10T12:00:08.000Z" }).execute();
      await page.waitForSelector(`#migrations-table tr[data-migration-id="${seed.migrationId}"][data-migration-status="completed"]`, { timeout: 10_000 });
      expect(await page.locator("#verify-verdict").innerText()).toBe("unsigned");
      await page.screenshot({ path: `${SCREENSHOTS}/admin-overview-${engine}.png`, fullPage: true });

      // Replay: the failed purchase applies now that its product is in the catalogue.
      await Promise.all([
        page.waitForURL(/done=replayed/),
        page.click(`#events-table tr[data-event-id="${seed.failedEventId}"] button`),
      ]);
      expect(await page.locator(".banner.done").innerText()).toMatch(/replayed: now processed\.$/);
      expect(await page.locator(`#events-table tr[data-event-id="${seed.failedEventId}"]`).count()).toBe(0);
      expect(await walletPoints(database.db, "page_user_6")).toBe(120);

      // Freeze, then try a manual adjustment from the user's page.
      await Promise.all([page.waitForURL(/done=flag/), page.click("#flags-table button")]);
      expect(await page.locator(".banner.done").innerText()).toBe("adjustments_frozen is now on.");
      await Promise.all([page.waitForURL(/\/admin\/users\/page_user_4/), page.click('#top-deltas a[href^="/admin/users/page_user_4"]')]);
      const before = await tableHashes(database.db);
      await page.fill("#amount", "500");
      await page.fill("#reason", "goodwill");
      await Promise.all([page.waitForURL(/refused=adjustments_frozen/), page.click("form.adjust button")]);
      expect(await page.locator(".banner.refused code").innerText()).toBe("adjustments_frozen");
      expect(await tableHashes(database.db)).toEqual(before);
      await page.screenshot({ path: `${SCREENSHOTS}/admin-user-${engine}.png`, fullPage: true });

      expect(consoleErrors).toEqual([]);
      expect(outsideRequests).toEqual([]);
    });

    it("finds the open provider finding that names no user, credits it to a uid, and sees it resolved and the wallet credited", async () => {
      consoleErrors.length = 0;
      outsideRequests.length = 0;
      const findingsPage = await openLoginPage();
      await findingsPage.goto(`${origin}/admin/findings`);
      expect(new URL(findingsPage.url()).pathname).toBe("/admin/login");
      await findingsPage.fill("#token", seed.admin);
      await Promise.all([findingsPage.waitForURL(`${origin}/admin`), findingsPage.click("section.login button[type=submit]")]);
      await Promise.all([findingsPage.waitForURL(/\/admin\/findings\?status=open$/), findingsPage.click('nav.pages a[href^="/admin/findings"]')]);
      const row = findingsPage.locator(`#findings-table tr[data-finding-id="${seed.unclaimedFindingId}"]`);
      expect(await row.innerText()).toMatch(/^paynow\s+paid_not_credited\s+paynow:order:\d+\s+1\u2009500 EUR\s+2026-03-09\s+2026-03-10 12:00:00 UTC\s+open\s+unknown/);
      expect(await findingsPage.locator(`#findings-table tr[data-finding-id="${seed.reportedFindingId}"]`).count()).toBe(0);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await findingsPage.screenshot({ path: `${SCREENSHOTS}/admin-findings-open-${engine}.png`, fullPage: true });

      // The standing report is listed with the other statuses, without an action.
      await findingsPage.selectOption("#status", "");
      await Promise.all([findingsPage.waitForURL(/status=&/), findingsPage.click("#findings-filter button")]);
      const reported = findingsPage.locator(`#findings-table tr[data-finding-id="${seed.reportedFindingId}"]`);
      expect(await reported.innerText()).toContain("reported only; never healed automatically");
      expect(await reported.locator("form").count()).toBe(0);

      await row.locator('input[name="uid"]').fill("page_browser_claimer");
      await Promise.all([findingsPage.waitForURL(/done=resolved/), row.locator("button").click()]);
      expect(await findingsPage.locator(".banner.done").innerText()).toMatch(/is now resolved\. Credited to page_browser_claimer\.$/);
      await findingsPage.selectOption("#status", "resolved");
      await Promise.all([findingsPage.waitForURL(/status=resolved/), findingsPage.click("#findings-filter button")]);
      expect(await row.getAttribute("data-finding-status")).toBe("resolved");
      expect(await row.locator('[data-field="uid"]').innerText()).toBe("page_browser_claimer");
      expect(await walletPoints(database.db, "page_browser_claimer")).toBe(UNCLAIMED_POINTS);
      await findingsPage.screenshot({ path: `${SCREENSHOTS}/admin-findings-resolved-${engine}.png`, fullPage: true });

      // The user's page shows the credit.
      await Promise.all([findingsPage.waitForURL(/\/admin\/users\/page_browser_claimer$/), row.locator('[data-field="uid"] a').click()]);
      expect(await findingsPage.locator("#wallet-points").innerText()).toBe("150");
      expect(consoleErrors).toEqual([]);
      expect(outsideRequests).toEqual([]);
    });
  });
}
