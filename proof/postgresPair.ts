import { execFile } from "node:child_process";
import { appendFileSync, chownSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./instances.js";

const run = promisify(execFile);
const BIN = process.env.PROOF_PG_BIN ?? "/usr/lib/postgresql/15/bin";

/**
 * A PostgreSQL primary with a synchronous standby on loopback, created under the run's
 * temporary directory on ports of its own (never the machine's main cluster): plain
 * streaming replication from `pg_basebackup`. Every commit waits for the standby to flush
 * it, so a promoted standby holds everything the primary ever acknowledged.
 */
export class PostgresPair {
  primaryPort = 0;
  standbyPort = 0;
  promoted = false;

  constructor(private readonly dir: string) {}

  /** The URL Reckon is given: both hosts, writes only on the one that accepts them. */
  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.primaryPort},127.0.0.1:${this.standbyPort}/${database}?target_session_attrs=read-write`;
  }

  /** The one host that takes writes now. */
  writableUrl(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.promoted ? this.standbyPort : this.primaryPort}/${database}`;
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    chownSync(this.dir, uid(), gid());
    this.primaryPort = await freePort();
    this.standbyPort = await freePort();
    const primary = join(this.dir, "primary");
    const standby = join(this.dir, "standby");
    await asPostgres("initdb", ["-D", primary, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    appendFileSync(
      join(primary, "postgresql.conf"),
      [
        `port = ${this.primaryPort}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${this.dir}'`,
        "wal_level = replica",
        "max_wal_senders = 5",
        "wal_keep_size = '512MB'",
        "synchronous_commit = on",
        "synchronous_standby_names = '*'",
        "max_connections = 200",
        "shared_buffers = '64MB'",
        "",
      ].join("\n"),
    );
    await asPostgres("pg_ctl", ["-D", primary, "-l", join(this.dir, "primary.log"), "-w", "-t", "60", "start"]);
    await asPostgres("pg_basebackup", ["-h", "127.0.0.1", "-p", String(this.primaryPort), "-U", "postgres", "-D", standby, "-R", "-X", "stream", "--checkpoint=fast"]);
    // Promoted, the standby runs alone: waiting for a standby it does not have would stall
    // every commit. It is synchronous again once a new standby is attached (docs/deployment.md).
    appendFileSync(join(standby, "postgresql.conf"), `port = ${this.standbyPort}\nsynchronous_standby_names = ''\n`);
    await asPostgres("pg_ctl", ["-D", standby, "-l", join(this.dir, "standby.log"), "-w", "-t", "60", "start"]);
    await this.#waitForSyncStandby();
  }

  async #waitForSyncStandby(): Promise<void> {
    const client = new pg.Client({ connectionString: this.writableUrl("postgres") });
    await client.connect();
    try {
      for (let i = 0; i < 300; i++) {
        const result = await client.query("select sync_state from pg_stat_replication");
        if (result.rows.some((row: { sync_state: string }) => row.sync_state === "sync")) return;
        await new Promise((resolveWait) => setTimeout(resolveWait, 100));
      }
      throw new Error("the standby never became synchronous");
    } finally {
      await client.end();
    }
  }

  /** SIGKILL of the primary's postmaster and every process it started: no shutdown, no last WAL flush. */
  async killPrimary(): Promise<void> {
    const pid = Number(readFileSync(join(this.dir, "primary", "postmaster.pid"), "utf8").split("\n")[0]);
    const children = childrenOf(pid);
    process.kill(pid, "SIGKILL");
    for (const child of children) {
      try {
        process.kill(child, "SIGKILL");
      } catch {
        // Already gone with its postmaster.
      }
    }
  }

  async promoteStandby(): Promise<void> {
    await asPostgres("pg_ctl", ["-D", join(this.dir, "standby"), "-w", "-t", "60", "promote"]);
    this.promoted = true;
  }

  async stop(): Promise<void> {
    for (const node of ["standby", "primary"]) {
      await asPostgres("pg_ctl", ["-D", join(this.dir, node), "-m", "immediate", "-w", "stop"]).catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function uid(): number {
  return Number(readFileSync("/etc/passwd", "utf8").split("\n").find((line) => line.startsWith("postgres:"))!.split(":")[2]);
}

function gid(): number {
  return Number(readFileSync("/etc/passwd", "utf8").split("\n").find((line) => line.startsWith("postgres:"))!.split(":")[3]);
}

/** PostgreSQL refuses to run as root: its tools run as the `postgres` user. */
async function asPostgres(tool: string, args: string[]): Promise<void> {
  const command = process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", join(BIN, tool), ...args]] : [join(BIN, tool), args];
  await run(command[0] as string, command[1] as string[], { timeout: 120_000 });
}

/** The processes whose parent is `pid`, read from /proc. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // The process ended while we read.
    }
  }
  return children;
}
