import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { shiftDate } from "../../src/cutover/checkRecentRuns.js";
import { todayUtc } from "../../src/reconcile/checkRunDate.js";
import { runReconciliation } from "../../src/reconcile/runReconciliation.js";
import { verifyReports } from "../../src/reconcile/verifyReports.js";
import { openDatabase } from "../../src/storage/openDatabase.js";
import { signDelivery } from "../../proof/sign.js";
import { exportFolder, reckonLines, type LegacyUser } from "../support/legacyExport.js";
import { prodEnv } from "../support/prodEnv.js";
import { RunbookScript } from "../support/runbookScript.js";
import { runReckonInProcess } from "../support/runReckonInProcess.js";
import { startReckonServer, type SecondInstance } from "../support/secondInstance.js";
import { adminQuery, createTestDatabase, ENGINES, invariantViolations, PG_ADMIN_URL, type TestDatabase } from "../support/testDatabase.js";
import { makeSecrets, paynowOrder, stripeEvent } from "../support/webhookFixtures.js";

/**
 * docs/runbooks/cutover.md, rehearsed on loopback with a test and a prod environment (a
 * database and a server process each). Every operator command is taken from the page by
 * its exact text (RunbookScript) and run through the real command tree in-process; the
 * servers are real `reckon serve` processes reached over HTTP.
 */

const PAYNOW_PRODUCT = "498201000000000100";
const STRIPE_PRICE = "price_live_250";
const OPERATOR = "rehearsal";

const at = (date: string) => `${date}T09:00:00.000Z`;

function legacyUsers(today: string, later: boolean): LegacyUser[] {
  const old = at(shiftDate(today, -30));
  return [
    { uid: "alice", points: 70, entries: [{ id: "a1", amount: 70, at: old }] },
    // bob's wallet drifted in the legacy store: 55 against entries of 50.
    { uid: "bob", points: 55, entries: [{ id: "b1", amount: 50, at: old }] },
    later
      ? { uid: "carol", points: 30, entries: [{ id: "c1", amount: 20, at: old }, { id: "c2", amount: 10, at: at(shiftDate(today, -20)) }] }
      : { uid: "carol", points: 20, entries: [{ id: "c1", amount: 20, at: old }] },
    ...(later ? [{ uid: "dan", points: 8, entries: [{ id: "d1", amount: 8, at: at(shiftDate(today, -20)) }] }] : []),
  ];
}

function paynowPurchase(uid: string) {
  const order = paynowOrder({ orderId: `${Date.now()}${randomBytes(3).readUIntBE(0, 3)}`, uid, lines: [{ productId: PAYNOW_PRODUCT, quantity: 1 }] });
  order.body.completed_at = new Date().toISOString();
  return order;
}

function stripePurchase(uid: string, livemode: boolean) {
  return stripeEvent(
    "checkout.session.completed",
    {
      id: `cs_${randomBytes(12).toString("hex")}`,
      object: "checkout.session",
      payment_status: "paid",
      client_reference_id: null,
      metadata: { uid, price_id: STRIPE_PRICE, quantity: "1" },
      payment_intent: `pi_${randomBytes(12).toString("hex")}`,
      amount_total: 500,
      currency: "usd",
    },
    livemode,
  );
}

for (const engine of ENGINES) {
  describe(`cutover runbook rehearsed end to end [${engine}]`, () => {
    const dir = mkdtempSync(join(tmpdir(), "reckon-cutover-"));
    const files = exportFolder();
    const secrets = makeSecrets();
    const restoreName = `reckon_t_restored_${randomBytes(4).toString("hex")}`;
    const restoreUrl = engine === "sqlite" ? `file:${join(dir, "restored.db")}` : Object.assign(new URL(PG_ADMIN_URL), { pathname: `/${restoreName}` }).toString();
    const servers: Promise<SecondInstance>[] = [];
    const databases: TestDatabase[] = [];

    afterAll(async () => {
      // A server still starting when the test failed is stopped too, never left running.
      const started = await Promise.allSettled(servers);
      await Promise.all(started.map((result) => (result.status === "fulfilled" ? result.value.stop() : undefined)));
      for (const database of databases) await database.drop();
      if (engine === "postgres") await adminQuery(`DROP DATABASE IF EXISTS ${restoreName} WITH (FORCE)`);
      rmSync(dir, { recursive: true, force: true });
      files.remove();
    });

    it(`every command of docs/runbooks/cutover.md runs as shown, and nothing else: import, shadow, freeze, snapshot, preflight, promote, verify, unfreeze, restore [${engine}]`, async () => {
      const book = new RunbookScript("docs/runbooks/cutover.md");
      const today = todayUtc(new Date());
      const prod = await createTestDatabase(engine, { migrateAs: "prod" });
      const testDb = await createTestDatabase(engine);
      databases.push(prod, testDb);
      const secretVars = { PAYNOW_WEBHOOK_SECRETS: secrets.paynow.join(","), STRIPE_WEBHOOK_SECRET: secrets.stripe };
      const plain = { DATABASE_URL: prod.url, LOG_LEVEL: "warn" };
      // Until step 6 the live webhook secrets are not mounted yet.
      let env = prodEnv({}, plain);
      // The test environment serves test-mode deliveries throughout, on its own database.
      const testServer = startReckonServer(["serve"], { ENVIRONMENT: "test", DATABASE_URL: testDb.url, ...secretVars });
      servers.push(testServer);
      // Awaited after the import steps; until then a failed start must not count as unhandled.
      testServer.catch(() => undefined);
      const values: Record<string, string> = { OPERATOR, PAYNOW_PRODUCT, STRIPE_PRICE, SNAPSHOT_DIR: join(dir, "snapshots"), RESTORE_URL: restoreUrl, TOKEN_FILE: join(dir, "token") };
      const reckon = (template: string, extra: Record<string, string> = {}) => runReckonInProcess(book.command(template, { ...values, ...extra }), env);

      // 1. Import, with bob's drift reported.
      const first = files.write("export.jsonl", reckonLines(legacyUsers(today, false)));
      const dry = await reckon("reckon import wallets --file $EXPORT --dry-run", { EXPORT: first });
      // Through a pipe every command prints its JSON (docs/decisions/cli-output.md).
      const bobDrift = { uid: "bob", line: 3, exportedPoints: 55, entriesPoints: 50, drift: 5 };
      expect(JSON.parse(dry.stdout)).toMatchObject({ outcome: "dry_run", users: 3, entriesPosted: 3, drift: [bobDrift], problems: [] });
      expect(await prod.db.kysely.selectFrom("wallets").select("uid").execute()).toEqual([]);
      const imported = await reckon("reckon import wallets --file $EXPORT --by $OPERATOR", { EXPORT: first });
      expect(imported.code).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ outcome: "imported", users: 3, walletsCreated: 3, drift: [bobDrift] });

      // 2. Shadow: the legacy store moved on; the newer export closes the gap.
      const later = files.write("later.jsonl", reckonLines(legacyUsers(today, true)));
      const differ = await reckon("reckon shadow compare --file $LEGACY_WALLETS", { LEGACY_WALLETS: later });
      expect(differ.code).toBe(1);
      expect(JSON.parse(differ.stdout).differences).toEqual([
        { uid: "carol", difference: "different_points", legacyPoints: 30, reckonPoints: 20 },
        { uid: "dan", difference: "missing_in_reckon", legacyPoints: 8, reckonPoints: null },
      ]);
      const newer = JSON.parse((await reckon("reckon import wallets --file $EXPORT --by $OPERATOR", { EXPORT: later })).stdout);
      expect(newer).toMatchObject({ users: 4, entriesPosted: 2, entriesAlreadyImported: 3, walletsCreated: 1, drift: [bobDrift] });

      // 3. The first reconciliation heals the drift; then both sides agree.
      const firstRun = await reckon("reckon reconcile --date $DATE", { DATE: shiftDate(today, -8) });
      expect(JSON.parse(firstRun.stdout)).toMatchObject({ outcome: "completed", run: { violations: 1, adjustmentAbsTotal: 5, refused: 0 } });
      const agree = await reckon("reckon shadow compare --file $LEGACY_WALLETS", { LEGACY_WALLETS: later });
      expect(agree.code).toBe(0);
      expect(JSON.parse(agree.stdout)).toMatchObject({ outcome: "agree", legacyWallets: 4, reckonWallets: 4, differences: [] });
      // Seven nights of the scheduler's runs while the legacy store still serves.
      for (let back = 7; back >= 1; back--) {
        const night = await runReconciliation(prod.db, { date: shiftDate(today, -back), policy: "adjust_ledger", chunkUsers: 100, mode: "start", now: () => new Date() });
        expect(night).toMatchObject({ outcome: "completed" });
      }

      // 4. Catalogue and the checks' admin token.
      expect((await reckon("reckon products set paynow $PAYNOW_PRODUCT 100")).code).toBe(0);
      expect((await reckon("reckon products set stripe $STRIPE_PRICE 250")).code).toBe(0);
      const token = JSON.parse((await reckon("reckon admin token create --role admin --name cutover")).stdout) as { token: string };
      writeFileSync(values.TOKEN_FILE!, token.token, { mode: 0o600 });

      // 5. Freeze and snapshot.
      expect(JSON.parse((await reckon("reckon admin freeze --by $OPERATOR")).stdout)).toMatchObject({ outcome: "changed", value: true });
      const snapshot = JSON.parse((await reckon("reckon snapshot create --dir $SNAPSHOT_DIR")).stdout) as { outcome: string; manifestPath: string };
      expect(snapshot.outcome).toBe("created");
      values.SNAPSHOT = snapshot.manifestPath;

      // 6. Preflight fails, for the reason it states; once the secrets are mounted, it passes.
      const refused = await reckon("reckon cutover preflight --snapshot-dir $SNAPSHOT_DIR");
      expect(refused.code).toBe(1);
      const failedLines = refused.stdout.split("\n").filter((line) => line.startsWith("FAILED"));
      expect(failedLines).toEqual([expect.stringMatching(/^FAILED prod_configuration: prod_not_configured: PAYNOW_WEBHOOK_SECRETS_FILE is not configured/)]);
      env = prodEnv(secretVars, plain);
      const passing = await reckon("reckon cutover preflight --snapshot-dir $SNAPSHOT_DIR");
      expect(passing).toMatchObject({ code: 0, stdout: expect.stringMatching(/preflight passed$/) });

      // 7. Promote: prod serves; live deliveries arrive, signed as each provider signs.
      const prodStarting = startReckonServer(book.command("reckon serve"), env);
      servers.push(prodStarting);
      const prodServer = await prodStarting;
      const deliver = (url: string, provider: "paynow" | "stripe", payload: unknown) => {
        const body = JSON.stringify(payload);
        return fetch(`${url}/api/webhooks/${provider}`, { method: "POST", headers: signDelivery(provider, body, secrets, 0), body });
      };
      const buyers = ["alice", "erin", "frank", "carol"];
      const expected = new Map<string, number>();
      for (let i = 0; i < 40; i++) {
        const uid = buyers[i % buyers.length]!;
        const provider = i % 2 === 0 ? "paynow" : "stripe";
        const answer = await deliver(prodServer.url, provider, provider === "paynow" ? paynowPurchase(uid) : stripePurchase(uid, true));
        expect(answer.status, await answer.text()).toBe(200);
        expected.set(uid, (expected.get(uid) ?? 0) + (provider === "paynow" ? 100 : 250));
      }
      // The switch cannot cross environments: a test-mode event is refused by prod, and the other way round.
      const test = await testServer;
      expect((await deliver(prodServer.url, "stripe", stripePurchase("alice", false))).status).toBe(403);
      expect((await deliver(test.url, "stripe", stripePurchase("alice", true))).status).toBe(403);

      // 8. The first reconciliation in prod, verify, unfreeze.
      expect(JSON.parse((await reckon("reckon reconcile --date $DATE", { DATE: today })).stdout)).toMatchObject({ outcome: "completed", run: { violations: 0 } });
      // Timing is not this test's to judge (bench:webhooks measures it): the bound only has to hold on a loaded machine.
      const verified = await reckon("reckon cutover verify --url $PROD_URL --token-file $TOKEN_FILE --date $DATE --ack-p99-max-ms $ACK_P99_MAX_MS", {
        PROD_URL: prodServer.url,
        DATE: today,
        ACK_P99_MAX_MS: "10000",
      });
      expect(verified, verified.stdout).toMatchObject({ code: 0, stdout: expect.stringMatching(/verify passed$/) });
      expect(verified.stdout).toMatch(/ok {5}webhook_ack_p99: p99 \d+ ms over \d+ deliveries/);
      expect(JSON.parse((await reckon("reckon admin unfreeze --by $OPERATOR")).stdout)).toMatchObject({ outcome: "changed", value: false });
      const balances = await prod.db.kysely.selectFrom("wallets").select(["uid", "points"]).orderBy("uid").execute();
      const legacy = new Map([["alice", 70], ["bob", 55], ["carol", 30], ["dan", 8]]);
      const sum = (uid: string) => (legacy.get(uid) ?? 0) + (expected.get(uid) ?? 0);
      expect(balances).toEqual([...new Set([...legacy.keys(), ...expected.keys()])].sort().map((uid) => ({ uid, points: sum(uid) })));

      // 9. Rollback: restore the snapshot into a new database; it holds the state before the switch, whole.
      const restored = await reckon("reckon snapshot restore $SNAPSHOT --to $RESTORE_URL");
      expect(JSON.parse(restored.stdout)).toMatchObject({ outcome: "restored", invariantViolations: 0, reports: { problems: 0, runsChecked: 8 } });
      const copy = openDatabase(restoreUrl, { poolSize: 2 });
      try {
        expect(await invariantViolations(copy)).toEqual([]);
        expect(await verifyReports(copy.kysely, { verifyKey: null })).toMatchObject({ verdict: "unsigned", problems: [], runsChecked: 8 });
        const before = await copy.kysely.selectFrom("wallets").select(["uid", "points"]).orderBy("uid").execute();
        expect(before).toEqual([...legacy].map(([uid, points]) => ({ uid, points })));
      } finally {
        await copy.close();
      }

      expect(book.unrun()).toEqual([]);
    }, 240_000);
  });
}
