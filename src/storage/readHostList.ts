/**
 * A PostgreSQL URL naming several hosts, as libpq writes it
 * (`postgres://user@host1:5432,host2:5432/db?target_session_attrs=read-write`), read
 * into its hosts and a one-host URL that `pg` (which knows only one host) can parse.
 * Reckon tries the hosts in turn and keeps the one that accepts writes, so its
 * instances find a promoted standby by themselves (docs/decisions/multi-host-database-url.md).
 */
export interface HostList {
  hosts: { host: string; port: number }[];
  /** The URL with only the first host: its user, database and parameters are every host's. */
  firstHostUrl: string;
  /** `target_session_attrs=read-write` or `primary`: skip hosts in recovery or read-only. */
  writableOnly: boolean;
}

const MULTI_HOST = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*,[^/?#]*)(.*)$/s;

/** The host list of a multi-host URL, or null for a URL with one host (or none). */
export function readHostList(url: string): HostList | null {
  const match = MULTI_HOST.exec(url);
  if (!match) return null;
  const [, scheme, credentials = "", hostPart, rest = ""] = match;
  const hosts: HostList["hosts"] = [];
  for (const item of hostPart!.split(",")) {
    const parsed = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(item);
    if (!parsed) return null;
    hosts.push({ host: parsed[1]!.replace(/^\[|\]$/g, ""), port: parsed[2] ? Number(parsed[2]) : 5432 });
  }
  const first = hostPart!.split(",")[0]!;
  const attrs = /[?&]target_session_attrs=([^&#]*)/.exec(rest)?.[1];
  return {
    hosts,
    firstHostUrl: `${scheme}${credentials}${first.includes(":") ? first : `${first}:5432`}${rest}`,
    writableOnly: attrs === "read-write" || attrs === "primary",
  };
}
