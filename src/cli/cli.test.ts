import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runReckon } from "../../test/support/runReckon.js";
import { authenticateToken } from "../auth/apiTokens.js";
import { openDatabase } from "../storage/openDatabase.js";
import { invariantViolations } from "../../test/support/testDatabase.js";
import { prodEnv } from "../../test/support/prodEnv.js";

const dir = mkdtempSync(join(tmpdir(), "reckon-cli-"));
const url = `file:${join(dir, "cli.db")}`;

const reckon = (args: string[], env: Record<string, string> = {}) => runReckon(args, { DATABASE_URL: url, ...env });

describe("reckon CLI", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("creates an API token that authenticates with its role, stored only as a hash", async () => {
    const result = await reckon(["admin", "token", "create", "--role", "admin", "--name", "ops"]);
    expect(result.code).toBe(0);
    const created = JSON.parse(result.stdout) as { token: string; role: string };
    expect(created.role).toBe("admin");
    const db = openDatabase(url);
    try {
      expect(await authenticateToken(db.kysely, created.token)).toMatchObject({ role: "admin", name: "ops" });
      const stored = await db.kysely.selectFrom("api_tokens").select("token_hash").execute();
      expect(stored.map((row) => row.token_hash)).not.toContain(created.token);
    } finally {
      await db.close();
    }
  });

  it("refuses an unknown role", async () => {
    const result = await reckon(["admin", "token", "create", "--role", "root"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Allowed choices are service, admin/);
  });

  it("seeds the demo through the ledger; the only wallet off its entries is the one it says it edited by hand", async () => {
    const result = await reckon(["demo", "--users", "25"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/seeded 25 users, \d+ purchases, \d+ spends, 1 refund/);
    const [, uid, points] = /(demo_user_\d{4})'s wallet was edited by hand \(\+(\d+) points/.exec(result.stdout) ?? [];
    const db = openDatabase(url);
    try {
      const drifts = (await invariantViolations(db)).map((row) => ({ uid: row.uid, drift: row.points - row.sum }));
      expect(drifts).toEqual([{ uid, drift: Number(points) }]);
      const users = await db.kysely.selectFrom("wallets").select("uid").execute();
      expect(users).toHaveLength(25);
    } finally {
      await db.close();
    }
    const again = await reckon(["demo", "--users", "25"]);
    expect(again.stdout).toMatch(/already holds data; not seeding/);
  });

  it("refuses to migrate a test database as prod, and lists every config problem", async () => {
    const mismatch = await reckon(["migrate"], prodEnv());
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/belongs to the test environment but ENVIRONMENT=prod/);
    const broken = await reckon(["migrate"], { ENVIRONMENT: "qa", PORT: "-1" });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/ENVIRONMENT[\s\S]*PORT/);
  });
});
