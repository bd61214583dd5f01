import type { Environment } from "../config.js";
import type { Provider } from "../providers/PaymentEvent.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { readStoredDelivery } from "../webhooks/readStoredDelivery.js";

/** An import is one file an operator checked; past this it should be split. */
export const MAX_IMPORT_LINES = 1_000_000;

export interface ImportLineError {
  line: number;
  problem: string;
}

export type ImportOutcome =
  /** Stored as `received` and `imported`, ready for `webhook_replay`; known event ids skipped. */
  | { outcome: "imported"; lines: number; stored: number; duplicates: number }
  /** Nothing was stored: every line must be readable before any is. */
  | { outcome: "invalid_lines"; errors: ImportLineError[] };

interface ParsedLine {
  eventId: string;
  eventType: string;
  livemode: boolean | null;
  rawBody: Buffer;
  receivedAt: string;
}

/** When the provider says it happened, so a replay over that date finds it. */
function eventTime(provider: Provider, json: Record<string, unknown>, now: Date): string {
  if (provider === "stripe" && typeof json.created === "number" && Number.isSafeInteger(json.created)) {
    return new Date(json.created * 1000).toISOString();
  }
  const body = json.body as Record<string, unknown> | undefined;
  for (const field of ["completed_at", "chargeback_at", "created_at", "updated_at"]) {
    const value = body?.[field];
    if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  }
  return now.toISOString();
}

/** Reads every line of an export (one provider event JSON per line); blank lines are skipped. */
export function parseImport(
  provider: Provider,
  text: string,
  environment: Environment,
  now: Date,
): { lines: ParsedLine[]; errors: ImportLineError[] } {
  const lines: ParsedLine[] = [];
  const errors: ImportLineError[] = [];
  const rows = text.split("\n");
  if (rows.length > MAX_IMPORT_LINES) {
    return { lines, errors: [{ line: MAX_IMPORT_LINES + 1, problem: `more than ${MAX_IMPORT_LINES} lines; split the file` }] };
  }
  for (const [index, raw] of rows.entries()) {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") continue;
    const number = index + 1;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      errors.push({ line: number, problem: "not valid JSON" });
      continue;
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      errors.push({ line: number, problem: "not a JSON object" });
      continue;
    }
    // The line's UTF-8 bytes are what is stored, and what a replay reads back.
    const rawBody = Buffer.from(line, "utf8");
    const read = readStoredDelivery(provider, rawBody);
    if (read.event.kind === "invalid_payload") {
      errors.push({ line: number, problem: `not a ${provider} event: ${read.event.detail}` });
      continue;
    }
    if (read.livemode !== null && read.livemode !== (environment === "prod")) {
      errors.push({ line: number, problem: `a ${read.livemode ? "live" : "test"} event cannot enter the ${environment} environment` });
      continue;
    }
    lines.push({ eventId: read.eventId, eventType: read.eventType, livemode: read.livemode, rawBody, receivedAt: eventTime(provider, json as Record<string, unknown>, now) });
  }
  return { lines, errors };
}

/**
 * Brings in deliveries that never arrived (a provider's dashboard export or webhook
 * history), all or nothing. They are stored, not applied: `webhook_replay` applies them
 * through the live path like any other stored event.
 */
export async function importEvents(
  db: Db,
  input: { provider: Provider; text: string; environment: Environment; now: Date },
): Promise<ImportOutcome> {
  const parsed = parseImport(input.provider, input.text, input.environment, input.now);
  if (parsed.errors.length > 0) return { outcome: "invalid_lines", errors: parsed.errors };
  const stored = await withTransaction(db, async (trx) => {
    let count = 0;
    for (const line of parsed.lines) {
      const inserted = await trx
        .insertInto("webhook_events")
        .values({
          provider: input.provider,
          event_id: line.eventId,
          event_type: line.eventType,
          status: "received",
          raw_body: line.rawBody,
          headers: JSON.stringify({ source: "import" }),
          livemode: line.livemode === null ? null : line.livemode ? 1 : 0,
          imported: 1,
          received_at: line.receivedAt,
        })
        .onConflict((conflict) => conflict.columns(["provider", "event_id"]).doNothing())
        .executeTakeFirst();
      count += Number(inserted.numInsertedOrUpdatedRows ?? 0);
    }
    return count;
  });
  return { outcome: "imported", lines: parsed.lines.length, stored, duplicates: parsed.lines.length - stored };
}
