import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";
import { RUNTIME_FLAGS, type RuntimeFlagName } from "./runtimeFlags.js";

export interface FlagState {
  name: RuntimeFlagName;
  value: boolean;
  /** Null while the flag has never been set and holds its default. */
  updatedAt: string | null;
  updatedBy: string | null;
}

/** Every runtime flag with its current value and who last set it. */
export async function listFlags(db: Kysely<Schema>): Promise<FlagState[]> {
  const rows = await db.selectFrom("runtime_flags").selectAll().execute();
  const byName = new Map(rows.map((row) => [row.name, row]));
  return (Object.keys(RUNTIME_FLAGS) as RuntimeFlagName[]).map((name) => {
    const row = byName.get(name);
    return {
      name,
      value: row ? row.value === "true" : RUNTIME_FLAGS[name].default,
      updatedAt: row?.updated_at ?? null,
      updatedBy: row?.updated_by ?? null,
    };
  });
}
