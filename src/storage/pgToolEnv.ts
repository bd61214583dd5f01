import { parse } from "pg-connection-string";

/**
 * The environment that points `pg_dump` / `pg_restore` at a database: the URL's parts as
 * libpq variables, so no password ever appears on a command line (`ps` shows those).
 */
export function pgToolEnv(url: string, password?: string): NodeJS.ProcessEnv {
  const parts = parse(url);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  if (parts.host) env.PGHOST = parts.host;
  if (parts.port) env.PGPORT = String(parts.port);
  if (parts.user) env.PGUSER = parts.user;
  if (parts.database) env.PGDATABASE = parts.database;
  const secret = password ?? parts.password;
  if (secret) env.PGPASSWORD = secret;
  return env;
}
