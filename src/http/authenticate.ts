import type { FastifyRequest } from "fastify";
import { authenticateToken, type TokenPrincipal } from "../auth/apiTokens.js";
import type { TokenRole } from "../storage/schema.js";
import type { AppContext } from "./context.js";
import { AppError } from "./errors.js";

export type Access = "public" | readonly TokenRole[];

/** Resolves the caller from `Authorization: Bearer …` and checks it may use the route. */
export async function authenticate(
  request: FastifyRequest,
  access: Access,
  context: AppContext,
): Promise<TokenPrincipal | null> {
  if (access === "public") return null;
  const header = request.headers.authorization;
  const match = typeof header === "string" ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header) : null;
  if (!match) throw new AppError("unauthenticated", "send Authorization: Bearer <token>");
  const principal = await authenticateToken(context.db.kysely, match[1]!);
  if (!principal) throw new AppError("unauthenticated", "the token is not valid");
  if (!access.includes(principal.role)) {
    throw new AppError("forbidden", `this route is not open to the ${principal.role} role`);
  }
  return principal;
}
