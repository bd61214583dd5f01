/**
 * A server for the webhook benchmark and the crash test, run as its own process so
 * the load generator does not share its event loop. `reckon` is the real server
 * (config from the environment, as `reckon serve`); `bare` is the baseline: a fastify
 * route that only verifies the PayNow HMAC and answers 200. Prints `listening <port>`.
 */
import Fastify from "fastify";
import { loadConfig } from "../src/config.js";
import { verifyPaynowSignature } from "../src/providers/paynow/verifyPaynowSignature.js";
import { serve } from "../src/runtime/serve.js";

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

async function reckon(): Promise<number> {
  const server = await serve(loadConfig({ ...process.env, HOST: "127.0.0.1", PORT: "0" }), { log: false });
  process.once("SIGTERM", () => {
    server.stop().finally(() => process.exit(0));
  });
  return Number(new URL(server.url).port);
}

const mode = process.argv[2];
const port = mode === "bare" ? await bare() : await reckon();
console.log(`listening ${port}`);
