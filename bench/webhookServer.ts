/**
 * A server for the webhook benchmark and the crash test, run as its own process so
 * the load generator does not share its event loop. `reckon` is the real server
 * (config from the environment, as `reckon serve`; BENCH_WORKERS=N serves from N cluster
 * workers, as `reckon serve --workers N`); `bare` is the baseline: a fastify route that
 * only verifies the PayNow HMAC and answers 200. Prints `listening <port>`.
 */
import Fastify from "fastify";
import { loadConfig } from "../src/config.js";
import { verifyPaynowSignature } from "../src/providers/paynow/verifyPaynowSignature.js";
import { parseWorkersOption, serveWorkers } from "../src/runtime/serveWorkers.js";

async function bare(): Promise<number> {
  const config = loadConfig(process.env);
  const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  app.post("/api/webhooks/paynow", async (request, reply) => {
    const check = verifyPaynowSignature({
      rawBody: request.body as Buffer,
      signature: request.headers["paynow-signature"] as string | undefined,
      timestamp: request.headers["paynow-timestamp"] as string | undefined,
      secrets: config.providers.paynowWebhookSecrets,
      now: new Date(),
    });
    return reply.code(check.ok ? 200 : 401).send({ received: check.ok });
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  process.once("SIGTERM", () => {
    app.close().finally(() => process.exit(0));
  });
  const address = app.server.address();
  return typeof address === "object" && address ? address.port : 0;
}

async function reckon(): Promise<{ port: number; primary: boolean }> {
  const workers = parseWorkersOption(process.env.BENCH_WORKERS ?? "1");
  const server = await serveWorkers(loadConfig({ ...process.env, HOST: "127.0.0.1", PORT: "0" }), { workers, log: false });
  process.once("SIGTERM", () => {
    server.stop().finally(() => process.exit(0));
  });
  return { port: Number(new URL(server.url).port), primary: server.primary };
}

const mode = process.argv[2];
const { port, primary } = mode === "bare" ? { port: await bare(), primary: true } : await reckon();
if (primary) console.log(`listening ${port}`);
