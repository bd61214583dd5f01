import { checkAmount, checkEntryId, checkNote, checkTime, checkUid, checkWalletPoints, type Checked } from "./checkLegacyFields.js";
import type { ParsedLine } from "./LegacyRecord.js";
import { parseJsonObject } from "./parseJsonObject.js";

const WALLET_FIELDS = new Set(["type", "uid", "points"]);
const ENTRY_FIELDS = new Set(["type", "uid", "id", "amount", "at", "note"]);

/**
 * The text of a top-level number field, exactly as written: `JSON.parse` would turn
 * `100.0000000000000001` into 100 and `9007199254740993` into 9007199254740992.
 */
const NUMBER_TEXT: Record<"points" | "amount", RegExp> = {
  points: /(?<!\\)"points"\s*:\s*(-?[0-9][0-9.eE+-]*)/,
  amount: /(?<!\\)"amount"\s*:\s*(-?[0-9][0-9.eE+-]*)/,
};

function numberText(line: string, field: "points" | "amount", value: unknown): string | null {
  if (typeof value !== "number") return null;
  const match = NUMBER_TEXT[field].exec(line);
  return match ? match[1]! : String(value);
}

function numberField(line: string, json: Record<string, unknown>, field: "points" | "amount", check: (text: string) => Checked<number>): Checked<number> {
  const text = numberText(line, field, json[field]);
  if (text === null) return { ok: false, code: field === "points" ? "invalid_points" : "invalid_amount", problem: `${field} must be a JSON number` };
  return check(text);
}

/**
 * Reads one line of a Reckon-format export: `{"type":"wallet","uid","points"}` or
 * `{"type":"entry","uid","id","amount","at","note"?}` (docs/import-format.md).
 */
export function parseReckonLine(line: string, now: Date): ParsedLine {
  const read = parseJsonObject(line);
  if (!read.ok) return read;
  const fields = read.json;
  const uid = checkUid(fields.uid);
  const known = uid.ok ? uid.value : null;
  if (fields.type !== "wallet" && fields.type !== "entry") {
    return { ok: false, uid: known, code: "unknown_type", problem: `type must be "wallet" or "entry"` };
  }
  const allowed = fields.type === "wallet" ? WALLET_FIELDS : ENTRY_FIELDS;
  const unknown = Object.keys(fields).filter((name) => !allowed.has(name));
  if (unknown.length > 0) return { ok: false, uid: known, code: "unknown_field", problem: `unknown field(s) for a ${fields.type} line: ${unknown.join(", ")}` };
  if (!uid.ok) return { ok: false, uid: null, code: uid.code, problem: uid.problem };

  if (fields.type === "wallet") {
    const points = numberField(line, fields, "points", checkWalletPoints);
    if (!points.ok) return { ok: false, uid: uid.value, code: points.code, problem: points.problem };
    return { ok: true, record: { type: "wallet", uid: uid.value, points: points.value } };
  }
  const id = checkEntryId(fields.id);
  if (!id.ok) return { ok: false, uid: uid.value, code: id.code, problem: id.problem };
  const amount = numberField(line, fields, "amount", checkAmount);
  if (!amount.ok) return { ok: false, uid: uid.value, code: amount.code, problem: amount.problem };
  const at = checkTime(fields.at, now);
  if (!at.ok) return { ok: false, uid: uid.value, code: at.code, problem: at.problem };
  const note = checkNote(fields.note);
  if (!note.ok) return { ok: false, uid: uid.value, code: note.code, problem: note.problem };
  return { ok: true, record: { type: "entry", uid: uid.value, id: id.value, amount: amount.value, at: at.value, note: note.value } };
}
