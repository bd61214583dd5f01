import type { FastifyRequest } from "fastify";

/** A script or API client asks for JSON and gets the API's answer and error shape with the real status. */
export function wantsJson(request: FastifyRequest): boolean {
  return (request.headers.accept ?? "").includes("application/json");
}
