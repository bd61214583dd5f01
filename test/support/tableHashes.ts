import { createHash } from "node:crypto";
import type { Db } from "../../src/storage/openDatabase.js";
import { TABLES } from "../../src/storage/schema.js";

/**
 * SHA-256 of every table's full contents (rows as JSON, sorted), so "changed nothing"
 * can be checked byte for byte rather than by counting rows.
 */
export async function tableHashes(db: Db, except: readonly string[] = []): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const table of TABLES) {
    if (except.includes(table)) continue;
    const rows = await db.kysely.selectFrom(table).selectAll().execute();
    const lines = rows.map((row) => JSON.stringify(row)).sort();
    hashes[table] = createHash("sha256").update(lines.join("\n")).digest("hex");
  }
  return hashes;
}
