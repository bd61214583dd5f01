import { PACKAGE_VERSION } from "../../packageVersion.js";
import { openApiDocument } from "../openApiDocument.js";
import type { RouteDef } from "../RouteDef.js";

/**
 * `GET /openapi.json`, describing `routes()` (read on first request: the list holds this
 * route too). Public, like /healthz: it holds nothing a caller could not learn by trying.
 */
export function openApiRoute(routes: () => readonly RouteDef[]): RouteDef {
  let document: unknown;
  return {
    method: "GET",
    url: "/openapi.json",
    access: "public",
    summary: "This document: OpenAPI 3.1, generated from the schemas the routes validate with",
    async handle() {
      document ??= openApiDocument(routes(), PACKAGE_VERSION);
      return { status: 200, body: document };
    },
  };
}
