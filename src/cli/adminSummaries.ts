import type { RevokeOutcome } from "../auth/apiTokens.js";
import type { FlagState } from "../flags/listFlags.js";
import type { SetFlagOutcome } from "../flags/setFlag.js";
import { unreachable } from "../unreachable.js";
import { count, type Style } from "./output.js";

/** What `reckon admin …` and `reckon products set` say to a person. */

export function describeTokenCreated(created: { id: number; role: string; name: string; token: string }, style: Style): string {
  return [
    `Created ${created.role} token ${created.id} (${created.name}). It is shown this once; Reckon keeps only its hash:`,
    `  ${style.bold(created.token)}`,
    `Next: send it as "Authorization: Bearer <token>"; revoke it with reckon admin token revoke ${created.id}.`,
  ].join("\n");
}

export function describeTokenRevoked(id: number, outcome: RevokeOutcome, style: Style): string {
  switch (outcome.outcome) {
    case "revoked":
      return `Revoked token ${id} (${outcome.name}); every instance refuses it from now on.`;
    case "already_revoked":
      return `Token ${id} was already revoked; nothing changed.`;
    case "not_found":
      return style.bad(`No token ${id}; nothing changed.`);
  }
  return unreachable(outcome, "revoke outcome");
}

export function describeProductSet(set: { provider: string; productId: string; pointsPerUnit: number; name: string | null }): string {
  return [
    `${set.provider} product ${set.productId}${set.name ? ` (${set.name})` : ""} now credits ${count(set.pointsPerUnit)} points per unit (audited).`,
    "Next: deliveries that failed on this product can be applied with reckon backfill replay --from <date> --to <date>.",
  ].join("\n");
}

export function describeFlags(flags: FlagState[], style: Style): string {
  const rows = flags.map((flag) => [flag.name, String(flag.value), flag.updatedBy ?? "(default)", flag.updatedAt]);
  return [style.table(["flag", "value", "set by", "set at"], rows), "Change one with reckon admin flags set <flag> <true|false> (audited)."].join("\n");
}

export function describeFlagSet(outcome: SetFlagOutcome, style: Style): string {
  const meaning = outcome.name === "adjustments_frozen" ? (outcome.value ? ": manual adjustments and reversals are refused on every instance" : ": manual adjustments and reversals are allowed again") : "";
  if (outcome.outcome === "unchanged") return `${outcome.name} was already ${outcome.value}; nothing changed${meaning}.`;
  return `${style.bold(outcome.name)} changed from ${outcome.previous} to ${outcome.value} (audited)${meaning}.`;
}
