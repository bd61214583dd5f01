import type { ParsedLine } from "./LegacyRecord.js";

/** A line as a JSON object, or the problem that makes it none (whose user cannot be known). */
export function parseJsonObject(line: string): { ok: true; json: Record<string, unknown> } | Extract<ParsedLine, { ok: false }> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, uid: null, code: "not_json", problem: "not valid JSON" };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return { ok: false, uid: null, code: "not_an_object", problem: "not a JSON object" };
  return { ok: true, json: json as Record<string, unknown> };
}
