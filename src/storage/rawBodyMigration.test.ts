import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { migrateBefore } from "../../test/support/schemaHistory.js";
import { createTestDatabase, ENGINES } from "../../test/support/testDatabase.js";
import { signPaynow, verifyPaynowSignature } from "../providers/paynow/verifyPaynowSignature.js";
import { migrate } from "./migrate.js";

const RAW_BODY_MIGRATION = 7;

/** Text an older Reckon stored: quotes, backslashes (bytea escapes), and characters beyond ASCII. */
const BODIES = [
  '{"event_type":"ON_ORDER_COMPLETED","event_id":"1","body":{"name":"Café 50 ✓ points 🎮"}}',
  String.raw`{"event_type":"ON_REFUND","event_id":"2","note":"back\\slash \x00-looking \\x41 and a 'quote'"}`,
  "",
];

describe("migration 7 turns raw bodies stored as text into the same bytes", () => {
  for (const engine of ENGINES) {
    it(`[${engine}] every stored body is its UTF-8 bytes afterwards and still verifies against its signature`, async () => {
      const database = await createTestDatabase(engine, { migrateAs: null });
      try {
        const db = database.db;
        await migrateBefore(db, RAW_BODY_MIGRATION, "2026-01-01T00:00:00.000Z");
        const secret = randomBytes(24).toString("hex");
        const timestampMs = 1_767_225_600_000;
        for (const [index, text] of BODIES.entries()) {
          const headers = JSON.stringify({ "paynow-signature": signPaynow(secret, timestampMs, text), "paynow-timestamp": String(timestampMs) });
          await sql`insert into webhook_events (provider, event_id, event_type, status, raw_body, headers, received_at)
            values ('paynow', ${`old-${index}`}, 'ON_ORDER_COMPLETED', 'processed', ${text}, ${headers}, ${"2026-01-01T00:00:00.000Z"})`.execute(db.kysely);
        }
        const result = await migrate(db, "test");
        expect(result).toMatchObject({ outcome: "migrated" });
        expect(result.outcome === "migrated" && result.applied).toContain(RAW_BODY_MIGRATION);
        const rows = await db.kysely.selectFrom("webhook_events").select(["event_id", "raw_body", "headers"]).orderBy("event_id").execute();
        expect(rows).toHaveLength(BODIES.length);
        for (const [index, text] of BODIES.entries()) {
          const row = rows.find((candidate) => candidate.event_id === `old-${index}`)!;
          expect(Buffer.isBuffer(row.raw_body)).toBe(true);
          expect(row.raw_body.equals(Buffer.from(text, "utf8"))).toBe(true);
          const headers = JSON.parse(row.headers) as Record<string, string>;
          const check = verifyPaynowSignature({
            rawBody: row.raw_body,
            signature: headers["paynow-signature"],
            timestamp: headers["paynow-timestamp"],
            secrets: [secret],
            now: new Date(timestampMs),
          });
          expect(check).toEqual({ ok: true });
        }
      } finally {
        await database.drop();
      }
    });
  }
});
