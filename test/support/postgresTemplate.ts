import pg from "pg";
import { migrate } from "../../src/storage/migrate.js";
import { openDatabase } from "../../src/storage/openDatabase.js";
import { migrationsFingerprint } from "./migrationsFingerprint.js";

/** Serialises building templates across every test process on the cluster (forks, worktrees). */
const TEMPLATE_LOCK_KEY = 727_274_002;

let template: Promise<string> | undefined;

/**
 * The name of a PostgreSQL database migrated once and stamped `test`, named after the
 * migrations it holds (`reckon_template_<fingerprint>`), built if the cluster lacks it.
 * Builders take a cluster-wide advisory lock and build under a temporary name renamed
 * into place, so no fork clones a template half migrated. The template is closed to
 * connections: cloning needs nobody connected to it.
 */
export function postgresTemplate(adminUrl: string): Promise<string> {
  if (!template) {
    const name = `reckon_template_${migrationsFingerprint("postgres")}`;
    template = ensureTemplate(adminUrl, name).then(() => name);
  }
  return template;
}

/** Builds the migrated template `name` unless the cluster has it; any number of callers at once. */
export async function ensureTemplate(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK_KEY]);
    const present = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (present.rowCount === 0) await build(admin, adminUrl, name);
  } finally {
    await admin.query("SELECT pg_advisory_unlock($1)", [TEMPLATE_LOCK_KEY]).catch(() => undefined);
    await admin.end();
  }
}

async function build(admin: pg.Client, adminUrl: string, name: string): Promise<void> {
  // Under the lock a database of this name can only be left by a builder that died.
  const building = `${name}_building`;
  await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${building}`);
  const url = new URL(adminUrl);
  url.pathname = `/${building}`;
  const db = openDatabase(url.toString(), { poolSize: 1 });
  try {
    const result = await migrate(db, "test");
    if (result.outcome !== "migrated") throw new Error(`template ${building}: ${result.outcome}`);
  } finally {
    await db.close();
  }
  await renameWhenClosed(admin, building, name);
  await admin.query(`ALTER DATABASE ${name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
}

/** Closed connections leave the server a moment later; a rename waits for them (at most 10 s). */
async function renameWhenClosed(admin: pg.Client, from: string, to: string): Promise<void> {
  const OBJECT_IN_USE = "55006";
  for (let attempt = 1; ; attempt += 1) {
    try {
      await admin.query(`ALTER DATABASE ${from} RENAME TO ${to}`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== OBJECT_IN_USE || attempt === 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
