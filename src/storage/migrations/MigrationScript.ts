/**
 * One numbered schema change for one engine, run whole in one transaction. Its id and
 * name come from its file name (`0004-backfill_runs.ts`), so they live in one place.
 */
export interface MigrationScript {
  id: number;
  name: string;
  sql: string;
}
