import { parse, type ConnectionOptions } from "pg-connection-string";
import { readHostList } from "./readHostList.js";

/**
 * What a `DATABASE_URL` says, read the way `pg` itself reads it (pg-connection-string),
 * so a password Reckon does not see is a password `pg` does not use either.
 *
 * `masked` is the only form of the URL that may be printed or logged: it is rebuilt
 * from the parsed parts, never edited from the original text, so no spelling of a
 * password (`user:p@ss@`, `%40`, `?password=`) survives into it.
 */
export type DatabaseUrl =
  | { engine: "sqlite"; path: string; masked: string }
  | { engine: "postgres"; inlinePassword: boolean; masked: string }
  | { engine: "unreadable"; problem: string; masked: string };

/** Query parameters whose values are shown when a URL is printed; any other value is masked. */
const SHOWN_PARAMS = new Set(["sslmode", "application_name", "connect_timeout", "target_session_attrs", "uselibpqcompat"]);
/** Keys pg-connection-string fills itself rather than copying from the query string. */
const PARSED_KEYS = new Set(["user", "password", "host", "port", "database", "ssl", "client_encoding"]);

const UNREADABLE_POSTGRES =
  "not a PostgreSQL connection URL pg can read; percent-encode reserved characters (/ ? # %) in the user and password";

export function readDatabaseUrl(url: string): DatabaseUrl {
  if (/^file:./.test(url)) return { engine: "sqlite", path: url.slice("file:".length), masked: url };
  if (!/^postgres(ql)?:\/\/./.test(url)) {
    return { engine: "unreadable", problem: "must be file:<path> or postgres://…", masked: "[unrecognised database URL]" };
  }
  const hostList = readHostList(url);
  let options: ConnectionOptions;
  try {
    options = parse(hostList?.firstHostUrl ?? url);
  } catch (error) {
    // A missing sslrootcert/sslcert/sslkey file throws too; its path is not a secret.
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === "ENOENT" || code === "EACCES" ? `an ssl file it names cannot be read (${code})` : UNREADABLE_POSTGRES;
    return { engine: "unreadable", problem, masked: "postgres://[unreadable URL]" };
  }
  const masked = maskedPostgres(options);
  if (!hostList) return { engine: "postgres", inlinePassword: Boolean(options.password), masked };
  // Every host of the list is shown; only the first one went through the parser.
  const hosts = hostList.hosts.map(({ host, port }) => `${host.includes(":") ? `[${host}]` : host}:${port}`).join(",");
  return { engine: "postgres", inlinePassword: Boolean(options.password), masked: masked.replace(/^(postgres:\/\/(?:[^@/]*@)?)[^/?]*/, `$1${hosts}`) };
}

/** The URL as it may be printed: user, host, port and database, the password as `***`. */
export function maskDatabaseUrl(url: string): string {
  return readDatabaseUrl(url).masked;
}

function maskedPostgres(options: ConnectionOptions): string {
  const user = options.user ? encodeURIComponent(options.user) : "";
  const credentials = options.password ? `${user}:***@` : user ? `${user}@` : "";
  const host = options.host ?? "";
  const hostPart = host.startsWith("/") ? encodeURIComponent(host) : host.includes(":") ? `[${host}]` : host;
  const port = options.port ? `:${options.port}` : "";
  const database = options.database ? `/${encodeURIComponent(options.database)}` : "";
  const params = Object.entries(options)
    .filter(([key, value]) => !PARSED_KEYS.has(key) && typeof value === "string")
    .map(([key, value]) => `${encodeURIComponent(key)}=${SHOWN_PARAMS.has(key) ? encodeURIComponent(value as string) : "***"}`);
  return `postgres://${credentials}${hostPart}${port}${database}${params.length > 0 ? `?${params.join("&")}` : ""}`;
}
