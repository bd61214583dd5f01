/**
 * Deliveries are stored as the exact bytes that were signed: a body that is not
 * UTF-8 or holds NUL is kept whole and can be verified again. A body stored as text
 * was valid UTF-8 when it came in (ingest decoded it), so its UTF-8 bytes are the
 * bytes that were signed. The column is swapped in place (add, copy, drop, rename)
 * rather than the table rebuilt, so columns and indexes other migrations add stay.
 */
export const sql = `
ALTER TABLE webhook_events ADD COLUMN raw_body_bytes BLOB NOT NULL DEFAULT x'';
UPDATE webhook_events SET raw_body_bytes = CAST(raw_body AS BLOB);
ALTER TABLE webhook_events DROP COLUMN raw_body;
ALTER TABLE webhook_events RENAME COLUMN raw_body_bytes TO raw_body;
`;
