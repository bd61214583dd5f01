/**
 * Deliveries are stored as the exact bytes that were signed (text cannot hold NUL
 * or bytes that are not UTF-8). A body stored as text was valid UTF-8 when it came
 * in, so its UTF-8 encoding is the bytes that were signed.
 */
export const sql = `
ALTER TABLE webhook_events ALTER COLUMN raw_body TYPE BYTEA USING convert_to(raw_body, 'UTF8');
`;
