import { checkAmount, checkEntryId, checkNote, checkTime, checkUid, checkWalletPoints } from "./checkLegacyFields.js";
import type { ParsedLine } from "./LegacyRecord.js";
import { parseJsonObject } from "./parseJsonObject.js";

/**
 * Reads one line of a Firestore-shaped export: a document as Firestore's REST API gives
 * it, `{"name": "projects/…/documents/wallets/<uid>[/ledger/<id>]", "fields": {…}}`, with
 * typed values (`integerValue` as a string, `timestampValue`, `stringValue`). A wallet is
 * a document two segments deep, an entry one four segments deep (any collection names);
 * fields Reckon does not read are ignored, as Firestore documents carry the app's own.
 */
export function parseFirestoreLine(line: string, now: Date): ParsedLine {
  const read = parseJsonObject(line);
  if (!read.ok) return read;
  const document = read.json as { name?: unknown; fields?: unknown; createTime?: unknown };
  const path = typeof document.name === "string" ? document.name.split("/documents/")[1] : undefined;
  const segments = path?.split("/") ?? [];
  if (segments.length !== 2 && segments.length !== 4) {
    return { ok: false, uid: null, code: "not_a_document", problem: "name must be a document path: …/documents/<collection>/<uid>[/<collection>/<id>]" };
  }
  if (segments[1] === "") return { ok: false, uid: null, code: "missing_uid", problem: "the document path has no uid" };
  const uid = checkUid(segments[1]);
  if (!uid.ok) return { ok: false, uid: null, code: uid.code, problem: uid.problem };
  if (typeof document.fields !== "object" || document.fields === null || Array.isArray(document.fields)) {
    return { ok: false, uid: uid.value, code: "not_a_document", problem: "fields must be an object of typed values" };
  }
  const fields = document.fields as Record<string, Record<string, unknown> | undefined>;

  if (segments.length === 2) {
    const points = integerValue(fields.points);
    if (points === null) return { ok: false, uid: uid.value, code: "invalid_points", problem: "points must be an integerValue (a string of digits)" };
    const checked = checkWalletPoints(points);
    if (!checked.ok) return { ok: false, uid: uid.value, code: checked.code, problem: checked.problem };
    return { ok: true, record: { type: "wallet", uid: uid.value, points: checked.value } };
  }
  const id = checkEntryId(segments[3]);
  if (!id.ok) return { ok: false, uid: uid.value, code: id.code, problem: id.problem };
  const amountText = integerValue(fields.amount);
  if (amountText === null) return { ok: false, uid: uid.value, code: "invalid_amount", problem: "amount must be an integerValue (a string of digits)" };
  const amount = checkAmount(amountText);
  if (!amount.ok) return { ok: false, uid: uid.value, code: amount.code, problem: amount.problem };
  const at = checkTime(fields.createdAt?.timestampValue ?? document.createTime, now);
  if (!at.ok) return { ok: false, uid: uid.value, code: at.code, problem: at.problem };
  const note = checkNote(fields.note?.stringValue);
  if (!note.ok) return { ok: false, uid: uid.value, code: note.code, problem: note.problem };
  return { ok: true, record: { type: "entry", uid: uid.value, id: id.value, amount: amount.value, at: at.value, note: note.value } };
}

/** Firestore sends 64-bit integers as strings; a number here is some other writer's guess. */
function integerValue(value: Record<string, unknown> | undefined): string | null {
  const text = value?.integerValue;
  return typeof text === "string" ? text : null;
}
