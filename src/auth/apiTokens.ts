import { createHash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { recordAudit } from "../audit/recordAudit.js";
import type { Schema, TokenRole } from "../storage/schema.js";
import type { Trx } from "../storage/withTransaction.js";

export interface TokenPrincipal {
  tokenId: number;
  name: string;
  role: TokenRole;
}

/**
 * API tokens carry 256 random bits, so a single SHA-256 is a safe way to store them:
 * there is nothing to brute-force that a slow hash would protect.
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Creates a token and returns it in clear, the only time it is ever visible. */
export async function createApiToken(
  db: Kysely<Schema>,
  input: { role: TokenRole; name: string; now: Date },
): Promise<{ token: string; id: number }> {
  const token = `rk_${input.role}_${randomBytes(32).toString("base64url")}`;
  const row = await db
    .insertInto("api_tokens")
    .values({ name: input.name, role: input.role, token_hash: hashToken(token), created_at: input.now.toISOString() })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { token, id: row.id };
}

export async function authenticateToken(db: Kysely<Schema>, token: string): Promise<TokenPrincipal | null> {
  const row = await db
    .selectFrom("api_tokens")
    .select(["id", "name", "role"])
    .where("token_hash", "=", hashToken(token))
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return row ? { tokenId: row.id, name: row.name, role: row.role } : null;
}

export type RevokeOutcome = { outcome: "revoked"; name: string } | { outcome: "already_revoked" } | { outcome: "not_found" };

/** Revokes a token for good; the next request carrying it gets 401. */
export async function revokeApiToken(trx: Trx, input: { id: number; actor: string; now: Date }): Promise<RevokeOutcome> {
  const row = await trx.selectFrom("api_tokens").select(["name", "role", "revoked_at"]).where("id", "=", input.id).executeTakeFirst();
  if (!row) return { outcome: "not_found" };
  if (row.revoked_at !== null) return { outcome: "already_revoked" };
  await trx.updateTable("api_tokens").set({ revoked_at: input.now.toISOString() }).where("id", "=", input.id).execute();
  await recordAudit(trx, {
    actor: input.actor,
    action: "token.revoke",
    subject: `api_token:${input.id}`,
    details: { name: row.name, role: row.role },
    now: input.now,
  });
  return { outcome: "revoked", name: row.name };
}
