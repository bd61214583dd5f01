import { Agent, request } from "node:http";

export interface HttpReply {
  /** 0 when no status came back (refused, reset, timed out). */
  status: number;
  body: unknown;
  /** Why no status came back: the socket error's code, or "timeout". */
  failure?: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP request on loopback with a keep-alive agent; never throws. */
export function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string, timeoutMs = 15_000): Promise<HttpReply> {
  return new Promise((resolveReply) => {
    const req = request(
      { host: "127.0.0.1", port, method, path, agent, timeout: timeoutMs, headers: body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // Not JSON: kept as text for the report.
          }
          resolveReply({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on("error", () => resolveReply({ status: 0, body: null }));
      },
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (error: NodeJS.ErrnoException) => resolveReply({ status: 0, body: null, failure: error.code ?? error.message }));
    req.end(body);
  });
}

export function closeHttp(): void {
  agent.destroy();
}
