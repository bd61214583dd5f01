import BetterSqlite3 from "better-sqlite3";
import pg from "pg";

/**
 * The proof's own door to the database: plain SQL with `?` placeholders, for the
 * out-of-band edits and the checker. It shares nothing with Reckon's storage layer.
 */
export interface ProofDb {
  engine: "sqlite" | "postgres";
  all<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Runs `work` in one transaction; `run` inside it returns the rows changed. */
  transaction<T>(work: (run: (text: string, params?: unknown[]) => Promise<number>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

export function openProofDb(url: string): ProofDb {
  if (url.startsWith("file:")) {
    const sqlite = new BetterSqlite3(url.slice("file:".length));
    sqlite.pragma("busy_timeout = 10000");
    return {
      engine: "sqlite",
      all: async <T>(text: string, params: unknown[] = []) => sqlite.prepare(text).all(...params) as T[],
      async transaction<T>(work: (run: (text: string, params?: unknown[]) => Promise<number>) => Promise<T>): Promise<T> {
        sqlite.exec("begin immediate");
        try {
          const result = await work(async (text, params = []) => sqlite.prepare(text).run(...params).changes);
          sqlite.exec("commit");
          return result;
        } catch (error) {
          if (sqlite.inTransaction) sqlite.exec("rollback");
          throw error;
        }
      },
      close: async () => {
        sqlite.close();
      },
    };
  }
  // Counts and sums come back as text (int8, numeric): the checker parses them as BigInt.
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5_000 });
  pool.on("error", () => undefined);
  return {
    engine: "postgres",
    all: async <T>(text: string, params: unknown[] = []) => (await pool.query(numbered(text), params)).rows as T[],
    async transaction<T>(work: (run: (text: string, params?: unknown[]) => Promise<number>) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let failed = false;
      try {
        await client.query("begin");
        const result = await work(async (text, params = []) => (await client.query(numbered(text), params)).rowCount ?? 0);
        await client.query("commit");
        return result;
      } catch (error) {
        failed = true;
        await client.query("rollback").catch(() => undefined);
        throw error;
      } finally {
        // A client that failed may have lost its server: it is discarded, not reused.
        client.release(failed);
      }
    },
    close: () => pool.end(),
  };
}
