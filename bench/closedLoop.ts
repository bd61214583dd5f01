import autocannon from "autocannon";
import type { Answer, Shot } from "./openLoop.js";

export interface ClosedLoopFigures {
  connections: number;
  seconds: number;
  /** 2xx answers per second over the whole run: the capacity at saturation. */
  ackedPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
}

/**
 * Closed loop (autocannon): `connections` connections, each sending its next request as
 * soon as the previous one is answered, for `seconds`. Every request is a fresh `shot`
 * (a newly signed body), so a server cannot answer from a cache of repeats. Each answer
 * is handed to `onAnswer` with the shot's tag, for the exactly-once audit.
 */
export async function runClosedLoop(options: {
  port: number;
  connections: number;
  seconds: number;
  shot: (index: number) => Shot;
  onAnswer?: (answer: Answer) => void;
}): Promise<ClosedLoopFigures> {
  let sent = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${options.port}`,
    connections: options.connections,
    duration: options.seconds,
    timeout: 30,
    requests: [
      {
        method: "POST",
        setupRequest: (request, context) => {
          const shot = options.shot(sent++);
          context.tag = shot.tag;
          return { ...request, path: shot.path, headers: shot.headers, body: shot.body };
        },
        onResponse: (status, _body, context) => options.onAnswer?.({ tag: context.tag as string, status, latencyMs: 0 }),
      },
    ],
  });
  return {
    connections: options.connections,
    seconds: options.seconds,
    ackedPerSecond: Math.round(result["2xx"] / result.duration),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    non2xx: result.non2xx,
    errors: result.errors,
  };
}
