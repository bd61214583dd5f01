import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "../auth/apiTokens.js";
import { loadConfig } from "../config.js";
import { createTestDatabase, describeEachEngine, tableCounts } from "../../test/support/testDatabase.js";
import { sampleUrl } from "../../test/support/sampleUrl.js";
import { BODY_LIMIT_BYTES, buildApp } from "./buildApp.js";
import { ROUTES } from "./routes.js";

describeEachEngine("failed authentications are rate limited per address", (db) => {
  let now = new Date("2026-03-01T12:00:00.000Z");
  let app: FastifyInstance;
  let service: string;

  beforeAll(async () => {
    app = await buildApp({
      db: db(),
      config: loadConfig({ ENVIRONMENT: "test", AUTH_FAILURE_LIMIT: "5", AUTH_FAILURE_WINDOW_SECONDS: "60" }),
      now: () => now,
    });
    service = (await createApiToken(db().kysely, { role: "service", name: "limit-service", now })).token;
  });
  afterAll(async () => {
    await app.close();
  });

  const read = (token: string, remoteAddress = "203.0.113.7") =>
    app.inject({ method: "GET", url: "/api/wallets/someone", headers: { authorization: `Bearer ${token}` }, remoteAddress });

  it("five failures get 401, the sixth attempt 429 rate_limited with Retry-After, even with a valid token", async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) expect((await read(`rk_service_guess${attempt}`)).statusCode).toBe(401);
    const limited = await read(service);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe("rate_limited");
    expect(limited.headers["retry-after"]).toBe("60");
  });

  it("another address is not affected, and public routes stay open", async () => {
    expect((await read(service, "203.0.113.8")).statusCode).toBe(404);
    const health = await app.inject({ method: "GET", url: "/healthz", remoteAddress: "203.0.113.7" });
    expect(health.statusCode).toBe(200);
  });

  it("the address may try again once its window has passed", async () => {
    now = new Date(now.getTime() + 61_000);
    expect((await read(service)).statusCode).toBe(404);
  });

  it("a refused role (403) is not counted as a failed authentication", async () => {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const response = await app.inject({
        method: "POST",
        url: "/api/admin/flags/adjustments_frozen",
        headers: { authorization: `Bearer ${service}` },
        payload: { value: true },
        remoteAddress: "203.0.113.9",
      });
      expect(response.statusCode).toBe(403);
    }
  });
});

describeEachEngine("the limited address is the client's, never one it can choose", (db) => {
  const guess = (app: FastifyInstance, forwardedFor: string) =>
    app.inject({
      method: "GET",
      url: "/api/wallets/someone",
      headers: { authorization: "Bearer rk_service_guess", "x-forwarded-for": forwardedFor },
      remoteAddress: "10.0.0.1",
    });

  it("without trusted proxies, a forged X-Forwarded-For does not escape the limit", async () => {
    const app = await buildApp({ db: db(), config: loadConfig({ ENVIRONMENT: "test", AUTH_FAILURE_LIMIT: "3" }) });
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await guess(app, `198.51.100.${i}`)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    await app.close();
  });

  it("behind one trusted proxy, clients sharing the proxy's address are limited separately", async () => {
    const app = await buildApp({ db: db(), config: loadConfig({ ENVIRONMENT: "test", AUTH_FAILURE_LIMIT: "3", TRUST_PROXY_HOPS: "1" }) });
    for (let i = 0; i < 3; i += 1) expect((await guess(app, "198.51.100.1")).statusCode).toBe(401);
    expect((await guess(app, "198.51.100.1")).statusCode).toBe(429);
    expect((await guess(app, "198.51.100.2")).statusCode).toBe(401);
    await app.close();
  });
});

describeEachEngine("every route bounds its body", (db) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp({ db: db(), config: loadConfig({ ENVIRONMENT: "test", AUTH_FAILURE_LIMIT: "100000" }) });
  });
  afterAll(async () => {
    await app.close();
  });

  for (const route of ROUTES.filter((candidate) => candidate.method === "POST")) {
    const limit = route.bodyLimitBytes ?? BODY_LIMIT_BYTES;
    it(`${route.method} ${route.url} refuses ${limit + 1} bytes with 413 and changes nothing`, async () => {
      expect(limit).toBeLessThanOrEqual(BODY_LIMIT_BYTES);
      const before = await tableCounts(db());
      const response = await app.inject({
        method: "POST",
        url: sampleUrl(route.url),
        headers: { "content-type": "application/json" },
        payload: `"${"a".repeat(limit - 1)}"`,
      });
      expect(response.statusCode).toBe(413);
      expect(response.json().error.code).toBe("body_too_large");
      expect(await tableCounts(db())).toEqual(before);
    });
  }
});

describe("slow clients are cut off", () => {
  it("a request whose body never finishes gets 503 handler_timeout within the handler timeout", async () => {
    const database = await createTestDatabase("sqlite");
    const app = await buildApp({
      db: database.db,
      config: loadConfig({ ENVIRONMENT: "test" }),
      timeouts: { handlerMs: 300 },
    });
    try {
      await app.listen({ host: "127.0.0.1", port: 0 });
      const { port } = app.server.address() as AddressInfo;
      const started = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.write("POST /api/wallets/someone/spend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
        });
        socket.on("data", (chunk) => {
          resolve(chunk.toString());
          socket.destroy();
        });
        socket.on("error", reject);
        setTimeout(() => socket.destroy(new Error("server never cut the slow client off")), 5_000);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 503/);
      expect(answer).toContain('"code":"handler_timeout"');
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await app.close();
      await database.drop();
    }
  });

  it("a client that never finishes its headers gets 408 within the request timeout", async () => {
    const database = await createTestDatabase("sqlite");
    const app = await buildApp({
      db: database.db,
      config: loadConfig({ ENVIRONMENT: "test" }),
      timeouts: { requestMs: 300, checkIntervalMs: 100 },
    });
    try {
      await app.listen({ host: "127.0.0.1", port: 0 });
      const { port } = app.server.address() as AddressInfo;
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
        socket.on("data", (chunk) => {
          resolve(chunk.toString());
          socket.destroy();
        });
        socket.on("error", reject);
        setTimeout(() => socket.destroy(new Error("server never cut the slow client off")), 5_000);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await app.close();
      await database.drop();
    }
  });
});
