import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { beforeAll, expect, it } from "vitest";
import { describeEachEngine, tableCounts } from "../../../test/support/testDatabase.js";
import { createApiToken } from "../../auth/apiTokens.js";
import { loadConfig } from "../../config.js";
import { buildApp } from "../buildApp.js";
import { reckonArgs } from "../../../test/support/reckonCommand.js";

const run = promisify(execFile);

describeEachEngine("the product catalogue is set by an admin route and a CLI command, audited", (db) => {
  let admin: string;
  let service: string;
  beforeAll(async () => {
    const now = new Date("2026-01-01T00:00:00Z");
    admin = (await createApiToken(db().kysely, { role: "admin", name: "catalogue-admin", now })).token;
    service = (await createApiToken(db().kysely, { role: "service", name: "catalogue-service", now })).token;
  });

  const put = async (token: string, url: string, payload: unknown) => {
    const app = await buildApp({ db: db(), config: loadConfig({}), now: () => new Date("2026-01-01T00:00:00Z") });
    return app.inject({ method: "PUT", url, headers: { authorization: `Bearer ${token}` }, payload: payload as object });
  };

  it("PUT /api/admin/products/:provider/:productId sets points per unit and audits the change", async () => {
    const response = await put(admin, "/api/admin/products/paynow/458255405240287232", { pointsPerUnit: 50, name: "50 Points" });
    expect(response.statusCode).toBe(200);
    expect(response.json().product).toEqual({ provider: "paynow", productId: "458255405240287232", pointsPerUnit: 50, name: "50 Points" });
    await put(admin, "/api/admin/products/paynow/458255405240287232", { pointsPerUnit: 60 });
    const product = await db().kysely.selectFrom("products").selectAll().where("product_id", "=", "458255405240287232").executeTakeFirstOrThrow();
    expect(product.points_per_unit).toBe(60);
    const audits = await db().kysely.selectFrom("audit_log").selectAll().where("action", "=", "product.set").where("subject", "=", "paynow:458255405240287232").execute();
    expect(audits.map((row) => row.actor)).toEqual(["token:catalogue-admin", "token:catalogue-admin"]);
    expect(JSON.parse(audits[1]!.details).before.points_per_unit).toBe(50);
  });

  it("refuses a service token, an unknown provider and non-positive points, changing nothing", async () => {
    const before = await tableCounts(db());
    expect((await put(service, "/api/admin/products/paynow/1", { pointsPerUnit: 5 })).statusCode).toBe(403);
    const provider = await put(admin, "/api/admin/products/paypal/1", { pointsPerUnit: 5 });
    expect([provider.statusCode, provider.json().error.code]).toEqual([400, "invalid_provider"]);
    const zero = await put(admin, "/api/admin/products/stripe/price_1", { pointsPerUnit: 0 });
    expect([zero.statusCode, zero.json().error.code]).toEqual([400, "invalid_body"]);
    const fractional = await put(admin, "/api/admin/products/stripe/price_1", { pointsPerUnit: 1.5 });
    expect(fractional.statusCode).toBe(400);
    expect(await tableCounts(db())).toEqual(before);
  });

  it("reckon products set <provider> <product-id> <points> writes the same audited line", async () => {
    const env = { ...process.env, DATABASE_URL: db().displayUrl, ENVIRONMENT: "test" };
    const { stdout } = await run(process.execPath, reckonArgs(["products", "set", "stripe", "price_cli", "250"]), { env });
    expect(JSON.parse(stdout)).toEqual({ provider: "stripe", productId: "price_cli", pointsPerUnit: 250, name: null });
    const product = await db().kysely.selectFrom("products").selectAll().where("product_id", "=", "price_cli").executeTakeFirstOrThrow();
    expect(product.points_per_unit).toBe(250);
    const audit = await db().kysely.selectFrom("audit_log").selectAll().where("subject", "=", "stripe:price_cli").executeTakeFirstOrThrow();
    expect(audit.actor).toMatch(/^cli:/);
    await expect(run(process.execPath, reckonArgs(["products", "set", "stripe", "price_cli", "-3"]), { env })).rejects.toThrow();
  });
});
