import type { FastifyInstance } from "fastify";

/** A logged-in admin page session as a browser holds it: the cookie and the CSRF token its pages carry. */
export interface PageSession {
  cookie: string;
  csrf: string;
}

/** Logs in through the form and reads the CSRF token from the overview, as a browser would. */
export async function logIn(app: FastifyInstance, token: string): Promise<PageSession> {
  const login = await postForm(app, "/admin/login", { token });
  const setCookie = String(login.headers["set-cookie"] ?? "");
  if (login.statusCode !== 303 || !setCookie) throw new Error(`login failed: ${login.statusCode} ${login.body}`);
  const cookie = setCookie.split(";")[0]!;
  const page = await app.inject({ method: "GET", url: "/admin", headers: { cookie } });
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
  if (!csrf) throw new Error("the overview carries no CSRF token");
  return { cookie, csrf };
}

/** Posts a form of the page; `json` asks for the API's answer instead of a redirect. */
export function postForm(app: FastifyInstance, url: string, fields: Record<string, string>, options: { cookie?: string; json?: boolean; headers?: Record<string, string> } = {}) {
  return app.inject({
    method: "POST",
    url,
    payload: new URLSearchParams(fields).toString(),
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...(options.json ? { accept: "application/json" } : {}),
      ...options.headers,
    },
  });
}
