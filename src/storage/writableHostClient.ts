import pg from "pg";
import type { HostList } from "./readHostList.js";

/**
 * A `pg.Client` class for a pool over several hosts: each new connection goes to the
 * host that last worked; a host that refuses the connection, or (when `writableOnly`)
 * is a standby or read-only, moves every later connection on to the next host. The
 * failing request gets an error (the caller retries it); no request waits on a dead host.
 */
export function writableHostClient(list: HostList): { Client: typeof pg.Client; onConnect: (client: pg.ClientBase) => Promise<void> } {
  let current = 0;
  const hostIndex = new WeakMap<object, number>();
  const moveOn = (from: number) => {
    if (current === from) current = (current + 1) % list.hosts.length;
  };
  // pg's overloaded `connect` types cannot be overridden as they are; the pool calls it with a callback.
  const Base = pg.Client as unknown as new (config: pg.ClientConfig) => { connect(callback?: (error: Error | null) => void): unknown };
  class HostListClient extends Base {
    constructor(config: pg.ClientConfig) {
      const index = current;
      const target = list.hosts[index]!;
      super({ ...config, host: target.host, port: target.port });
      hostIndex.set(this, index);
    }

    override connect(callback?: (error: Error | null) => void): unknown {
      const index = hostIndex.get(this)!;
      if (callback) {
        return super.connect((error) => {
          if (error) moveOn(index);
          callback(error);
        });
      }
      return (super.connect() as Promise<unknown>).catch((error: unknown) => {
        moveOn(index);
        throw error;
      });
    }
  }
  const onConnect = async (client: pg.ClientBase) => {
    if (!list.writableOnly) return;
    const result = await client.query<{ writable: boolean }>(
      "select not pg_is_in_recovery() and current_setting('transaction_read_only') = 'off' as writable",
    );
    if (result.rows[0]?.writable !== true) {
      moveOn(hostIndex.get(client) ?? current);
      throw new Error("the database host is a standby or read-only; trying the next host");
    }
  };
  return { Client: HostListClient as unknown as typeof pg.Client, onConnect };
}
