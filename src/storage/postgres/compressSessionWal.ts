import { CompiledQuery, type DatabaseConnection } from "kysely";

/**
 * What each new PostgreSQL connection asks for its full-page images: after a checkpoint the
 * first change to a page writes the whole 8 KB page into the WAL, and on a large database a
 * stored delivery touches pages no delivery touched since (its wallet's heap page, random
 * leaves of `ledger_entries`' two `uid` indexes): at 1M users 2.2 images, 19 KB of WAL a
 * delivery, where 10k users write 2.2 KB. lz4 halves that (docs/decisions/webhook-durability.md,
 * "fourth round").
 */
export const SESSION_WAL_COMPRESSION = "lz4";

/** Why the session was left at the server's setting, or that it now compresses. */
export type SessionWalCompression = "compressing" | "operator_chose" | "not_permitted" | "unsupported";

/**
 * Sets `wal_compression` for this session when nobody chose a value for it (its source is
 * PostgreSQL's built-in default, `off`) and the role may set it (a superuser, or
 * `GRANT SET ON PARAMETER wal_compression TO <role>`, PostgreSQL 15+): it changes only how
 * this session's WAL is written, never what is durable or when a commit returns. A value an
 * operator set (configuration file, `ALTER SYSTEM`, database or role), `off` included, is
 * kept. Without the privilege, on a server older than 15 or built without lz4, nothing
 * changes and nothing fails: the privilege is checked first, so a refused role does not log
 * an error per connection.
 */
export async function compressSessionWal(connection: DatabaseConnection): Promise<SessionWalCompression> {
  const { rows } = await connection.executeQuery<{ version: string; source: string }>(
    CompiledQuery.raw("select current_setting('server_version_num') as version, source from pg_settings where name = 'wal_compression'"),
  );
  const { version, source } = rows[0]!;
  // Before 15 the setting is a boolean (pglz only) and the privilege cannot be granted.
  if (Number(version) < 150000) return "unsupported";
  if (source !== "default") return "operator_chose";
  const permitted = await connection.executeQuery<{ permitted: boolean }>(
    CompiledQuery.raw("select has_parameter_privilege('wal_compression', 'SET') as permitted"),
  );
  if (!permitted.rows[0]!.permitted) return "not_permitted";
  try {
    await connection.executeQuery(CompiledQuery.raw(`set wal_compression = ${SESSION_WAL_COMPRESSION}`));
    return "compressing";
  } catch (error) {
    // 22023 (invalid_parameter_value): this server was built without lz4; its setting stands.
    // Anything else (a lost connection) is the pool's to see.
    if ((error as { code?: string } | null)?.code === "22023") return "unsupported";
    throw error;
  }
}
