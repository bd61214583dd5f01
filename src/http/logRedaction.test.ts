import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import { buildApp } from "./buildApp.js";
import type { RouteDef } from "./RouteDef.js";
import { ROUTES } from "./routes.js";

/** Test-only routes that log carelessly, the way a future handler might. */
const CARELESS_ROUTES: RouteDef[] = [
  {
    method: "POST",
    url: "/test-only/log-headers",
    access: "public",
    async handle(request) {
      request.log.info({ headers: request.headers }, "echoing headers");
      const echoed = (request.body as { echoed?: string } | null)?.echoed;
      request.log.info({ token: echoed, secret: echoed }, "echoing a token");
      return { status: 204, body: null };
    },
  },
  {
    method: "POST",
    url: "/test-only/fail",
    access: "public",
    async handle(request) {
      const secret = (request.headers["x-test-secret"] as string) ?? "";
      throw Object.assign(new Error("upstream refused"), { token: secret, secret, apiKey: secret });
    },
  },
];

describeEachEngine("logs never hold secrets", (db) => {
  const lines: string[] = [];
  let app: FastifyInstance;
  const secrets = {
    bearer: `rk_admin_${randomBytes(32).toString("base64url")}`,
    jwt: `eyJhbGciOiJSUzI1NiJ9.${randomBytes(48).toString("base64url")}.${randomBytes(64).toString("base64url")}`,
    paynowSignature: randomBytes(32).toString("base64"),
    stripeSignature: `t=1767225600,v1=${randomBytes(32).toString("hex")}`,
    cookie: `session=${randomBytes(24).toString("hex")}`,
    queryToken: randomBytes(24).toString("hex"),
    thrown: randomBytes(24).toString("hex"),
    echoed: randomBytes(24).toString("hex"),
  };

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    app = await buildApp({
      db: db(),
      config: loadConfig({ ENVIRONMENT: "test", LOG_LEVEL: "trace" }),
      log: true,
      logStream: stream,
      routes: [...ROUTES, ...CARELESS_ROUTES],
    });
    const headers = {
      authorization: `Bearer ${secrets.bearer}`,
      "paynow-signature": secrets.paynowSignature,
      "stripe-signature": secrets.stripeSignature,
      cookie: secrets.cookie,
    };
    await app.inject({ method: "GET", url: "/api/wallets/someone", headers });
    await app.inject({ method: "GET", url: "/api/wallets/someone", headers: { authorization: `Bearer ${secrets.jwt}` } });
    await app.inject({ method: "GET", url: `/healthz?access_token=${secrets.queryToken}` });
    await app.inject({ method: "POST", url: "/test-only/log-headers", headers, payload: { echoed: secrets.echoed } });
    const failed = await app.inject({ method: "POST", url: "/test-only/fail", headers: { "x-test-secret": secrets.thrown }, payload: {} });
    expect(failed.statusCode).toBe(500);
    expect(failed.body).not.toContain(secrets.thrown);
  });
  afterAll(async () => {
    await app.close();
  });

  it("captured real log lines (the test is not vacuous)", () => {
    const output = lines.join("");
    expect(output).toContain("incoming request");
    expect(output).toContain("echoing headers");
    expect(output).toContain("echoing a token");
    expect(output).toContain("upstream refused");
    expect(output).toContain("[redacted]");
  });

  for (const [name, value] of Object.entries(secrets)) {
    it(`no log line holds the ${name}`, () => {
      expect(lines.join("")).not.toContain(value);
    });
  }
});
