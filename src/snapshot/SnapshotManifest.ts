import { z } from "zod";

/**
 * A *snapshot* is a consistent copy of one environment's database (an SQLite online backup or
 * a `pg_dump -Fc` archive) beside its *manifest* (`<name>.json`): the environment, engine, schema
 * version, time, every table's row count and the copy's SHA-256. The manifest is written
 * last, so a manifest always names a complete copy.
 */
export const SnapshotManifest = z.strictObject({
  format: z.literal(1),
  name: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/),
  environment: z.enum(["test", "prod"]),
  engine: z.enum(["sqlite", "postgres"]),
  schemaVersion: z.number().int().nonnegative(),
  createdAt: z.iso.datetime(),
  /** The copy's file name, in the manifest's folder. */
  file: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  rowCounts: z.record(z.string(), z.number().int().nonnegative()),
});
export type SnapshotManifest = z.infer<typeof SnapshotManifest>;
