import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";
import { toEntry, type Entry } from "./types.js";

export interface EntryPage {
  entries: Entry[];
  /** Pass back as `before` for the next (older) page; null on the last page. */
  nextBefore: number | null;
}

/** One user's entries, newest first, keyset-paginated on the entry id. */
export async function listEntries(
  db: Kysely<Schema>,
  uid: string,
  page: { limit: number; before?: number },
): Promise<EntryPage> {
  let query = db.selectFrom("ledger_entries").selectAll().where("uid", "=", uid);
  if (page.before !== undefined) query = query.where("id", "<", page.before);
  const rows = await query.orderBy("id", "desc").limit(page.limit + 1).execute();
  const entries = rows.slice(0, page.limit).map(toEntry);
  const last = entries.at(-1);
  return { entries, nextBefore: rows.length > page.limit && last ? last.id : null };
}
