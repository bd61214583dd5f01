import pg from "pg";
import type { HostList } from "./readHostList.js";

/**
 * A pool over a multi-host URL, as libpq connects: each new connection goes to the host
 * that last worked; one that refuses the connection, or (when `writableOnly`) is a standby
 * or read-only, moves on to the next host, and the same checkout tries the next one, up to
 * once per host. Only when no host takes writes (mid-failover) does the checkout fail; the
 * caller answers 5xx and its client retries. Nothing waits on a dead host.
 */
export function hostListPool(list: HostList, config: pg.PoolConfig): pg.Pool {
  let current = 0;
  const hostIndex = new WeakMap<object, number>();
  const moveOn = (from: number) => {
    if (current === from) current = (current + 1) % list.hosts.length;
  };
  // pg's overloaded `connect` types cannot be overridden as they are; the pool calls it with a callback.
  const Base = pg.Client as unknown as new (config: pg.ClientConfig) => { connect(callback?: (error: Error | null) => void): unknown };
  class HostListClient extends Base {
    constructor(clientConfig: pg.ClientConfig) {
      const index = current;
      const target = list.hosts[index]!;
      super({ ...clientConfig, host: target.host, port: target.port });
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
      throw new Error("the database host is a standby or read-only");
    }
  };
  class HostListPool extends pg.Pool {
    override connect(): Promise<pg.PoolClient>;
    override connect(callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): void;
    override connect(callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): Promise<pg.PoolClient> | void {
      if (callback) return super.connect(callback);
      return this.#connectToAnyHost();
    }

    async #connectToAnyHost(): Promise<pg.PoolClient> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await super.connect();
        } catch (error) {
          if (attempt >= list.hosts.length) throw error;
        }
      }
    }
  }
  return new HostListPool({ ...config, Client: HostListClient as unknown as typeof pg.Client, onConnect } as pg.PoolConfig);
}
