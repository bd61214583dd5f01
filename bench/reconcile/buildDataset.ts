import { sql } from "kysely";
import { migrate } from "../../src/storage/migrate.js";
import { openDatabase } from "../../src/storage/openDatabase.js";

/**
 * Bulk-generates the benchmark's ledger with set-based SQL (never through postEntry):
 * `users` wallets `u0000001…`, each with `entriesPerUser` purchases whose sum the
 * wallet shows, then a known set of drifts planted by moving some wallets. Keys are
 * zero-padded so every index receives its rows in order. Run as a child process, so
 * the load's memory never counts in the reconciliation's peak RSS.
 */
export interface Dataset {
  users: number;
  entries: number;
  plantedDrifts: number;
  plantedSum: number;
  plantedAbsSum: number;
}

export function plannedDrifts(users: number): { n: number; drift: number }[] {
  const count = Math.max(1, Math.min(1000, Math.floor(users / 100)));
  const step = Math.floor(users / count);
  return Array.from({ length: count }, (_, index) => ({
    n: 1 + index * step + (index % 7),
    drift: (index % 2 === 0 ? 1 : -1) * (1 + ((index * 7919) % 1_000_000)),
  }));
}

async function build(url: string, users: number, perUser: number): Promise<Dataset> {
  const db = openDatabase(url, { poolSize: 2 });
  await migrate(db, "test");
  const at = "2026-01-01T00:00:00.000Z";
  const ks = Array.from({ length: perUser }, (_, index) => `(${index + 1})`).join(",");
  if (db.dialect === "sqlite") {
    const sqlite = db.sqlite!;
    sqlite.pragma("synchronous = OFF");
    sqlite.pragma("cache_size = -262144");
    sqlite.exec(`BEGIN;
      WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${users})
      INSERT INTO wallets (uid, points, version, negative_flagged, created_at, updated_at)
      SELECT printf('u%07d', n), ${perUser} * (n % 97) + ${(perUser * (perUser + 1)) / 2}, ${perUser}, 0, '${at}', '${at}' FROM seq;
      WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${users}), ks(k) AS (VALUES ${ks})
      INSERT INTO ledger_entries (uid, amount, kind, idempotency_key, reverses_entry_id, balance_after, source, source_ref, reason, content_hash, created_at)
      SELECT printf('u%07d', n), (n % 97) + k, 'purchase', printf('b%07d%03d', n, k), NULL, 0, 'bench', NULL, NULL, '', '${at}'
      FROM seq, ks ORDER BY n, k;
      COMMIT;`);
  } else {
    await sql`SET session_replication_role = replica`.execute(db.kysely);
    await sql.raw(`
      INSERT INTO wallets (uid, points, version, negative_flagged, created_at, updated_at)
      SELECT 'u' || lpad(n::text, 7, '0'), ${perUser} * (n % 97) + ${(perUser * (perUser + 1)) / 2}, ${perUser}, 0, '${at}', '${at}'
      FROM generate_series(1, ${users}) n`).execute(db.kysely);
    await sql.raw(`
      INSERT INTO ledger_entries (uid, amount, kind, idempotency_key, reverses_entry_id, balance_after, source, source_ref, reason, content_hash, created_at)
      SELECT 'u' || lpad(n::text, 7, '0'), (n % 97) + k, 'purchase', 'b' || lpad(n::text, 7, '0') || lpad(k::text, 3, '0'), NULL, 0, 'bench', NULL, NULL, '', '${at}'
      FROM generate_series(1, ${users}) n, generate_series(1, ${perUser}) k ORDER BY n, k`).execute(db.kysely);
  }
  const drifts = plannedDrifts(users);
  await db.kysely.transaction().execute(async (trx) => {
    for (const { n, drift } of drifts) {
      await sql`UPDATE wallets SET points = points + ${drift} WHERE uid = ${`u${String(n).padStart(7, "0")}`}`.execute(trx);
    }
  });
  if (db.dialect === "postgres") {
    // Sets the visibility map, so the sweep's covering index is read without the heap.
    await sql`VACUUM ANALYZE wallets`.execute(db.kysely);
    await sql`VACUUM ANALYZE ledger_entries`.execute(db.kysely);
    // Flushes what the build dirtied, as SQLite's wal_checkpoint below does: otherwise the
    // server's checkpoints of the 10M-entry load (every ~5 s at the default max_wal_size)
    // run during the measured run and stall its commits' fsyncs.
    await sql`CHECKPOINT`.execute(db.kysely);
  } else {
    db.sqlite!.exec("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);");
  }
  await db.close();
  return {
    users,
    entries: users * perUser,
    plantedDrifts: drifts.length,
    plantedSum: drifts.reduce((sum, item) => sum + item.drift, 0),
    plantedAbsSum: drifts.reduce((sum, item) => sum + Math.abs(item.drift), 0),
  };
}

if (process.argv[1]?.endsWith("buildDataset.ts")) {
  const [url, users, perUser] = process.argv.slice(2);
  const started = Date.now();
  build(url!, Number(users), Number(perUser)).then(
    (dataset) => console.log(JSON.stringify({ ...dataset, buildSeconds: (Date.now() - started) / 1000 })),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
