import { recordAudit } from "../audit/recordAudit.js";
import { lockForUpdate } from "../storage/lockForUpdate.js";
import type { Trx } from "../storage/withTransaction.js";
import { RUNTIME_FLAGS, type RuntimeFlagName } from "./runtimeFlags.js";

export interface FlagChange {
  name: RuntimeFlagName;
  value: boolean;
  /** Who asked: `token:<name>`, `oidc:<email>`, `cli:<user>`. */
  actor: string;
  now: Date;
}

export type SetFlagOutcome =
  | { outcome: "changed"; name: RuntimeFlagName; previous: boolean; value: boolean }
  /** The flag already had that value: nothing written, nothing audited. */
  | { outcome: "unchanged"; name: RuntimeFlagName; value: boolean };

export function isRuntimeFlagName(name: string): name is RuntimeFlagName {
  return Object.hasOwn(RUNTIME_FLAGS, name);
}

/**
 * Sets a runtime flag and audits who changed it, from what, to what, and when, in one
 * transaction. Every instance reads flags from the database on each use, so the
 * change holds everywhere as soon as this commits.
 */
export async function setFlag(trx: Trx, change: FlagChange): Promise<SetFlagOutcome> {
  // Two admins flipping the same flag at once must each audit the value they replaced.
  const row = await lockForUpdate(trx, trx.selectFrom("runtime_flags").select("value").where("name", "=", change.name)).executeTakeFirst();
  const previous = row ? row.value === "true" : RUNTIME_FLAGS[change.name].default;
  if (row && previous === change.value) return { outcome: "unchanged", name: change.name, value: change.value };
  const at = change.now.toISOString();
  const value = String(change.value);
  await trx
    .insertInto("runtime_flags")
    .values({ name: change.name, value, updated_at: at, updated_by: change.actor })
    .onConflict((conflict) => conflict.column("name").doUpdateSet({ value, updated_at: at, updated_by: change.actor }))
    .execute();
  await recordAudit(trx, {
    actor: change.actor,
    action: "flag.set",
    subject: change.name,
    details: { from: previous, to: change.value },
    now: change.now,
  });
  return { outcome: "changed", name: change.name, previous, value: change.value };
}
