import type { Kysely } from "kysely";
import type { Schema } from "../storage/schema.js";

/** Flags stored in the database, so every instance sees a change. */
export const RUNTIME_FLAGS = {
  /** While true, manual adjustments and manual reversals are refused (cutover freeze). */
  adjustments_frozen: { default: false },
} as const;
export type RuntimeFlagName = keyof typeof RUNTIME_FLAGS;

export async function readFlag(db: Kysely<Schema>, name: RuntimeFlagName): Promise<boolean> {
  const row = await db.selectFrom("runtime_flags").select("value").where("name", "=", name).executeTakeFirst();
  return row ? row.value === "true" : RUNTIME_FLAGS[name].default;
}
