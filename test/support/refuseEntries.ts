import { sql } from "kysely";
import type { Db } from "../../src/storage/openDatabase.js";

/**
 * Makes the database itself refuse every ledger entry for `uid`, with a trigger the
 * test creates: an event for that user then cannot apply, for a reason no fix in the
 * application code can remove. `allowEntriesFor` drops it again.
 */
export async function refuseEntriesFor(db: Db, uid: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(uid)) throw new Error(`a trigger name needs a plain uid, got ${uid}`);
  const name = sql.raw(`refuse_${uid}`);
  if (db.dialect === "sqlite") {
    await sql`create trigger ${name} before insert on ledger_entries when new.uid = ${sql.lit(uid)}
      begin select raise(abort, ${sql.lit(`refused by test trigger for ${uid}`)}); end`.execute(db.kysely);
    return;
  }
  await sql`create function ${name}() returns trigger language plpgsql as $$
    begin
      if new.uid = ${sql.lit(uid)} then raise exception 'refused by test trigger for %', new.uid; end if;
      return new;
    end $$`.execute(db.kysely);
  await sql`create trigger ${name} before insert on ledger_entries for each row execute function ${name}()`.execute(db.kysely);
}

export async function allowEntriesFor(db: Db, uid: string): Promise<void> {
  const name = sql.raw(`refuse_${uid}`);
  if (db.dialect === "sqlite") {
    await sql`drop trigger ${name}`.execute(db.kysely);
    return;
  }
  await sql`drop trigger ${name} on ledger_entries`.execute(db.kysely);
  await sql`drop function ${name}()`.execute(db.kysely);
}
