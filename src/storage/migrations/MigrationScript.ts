/** One numbered schema change for one dialect, run whole in one transaction. */
export interface MigrationScript {
  id: number;
  name: string;
  sql: string;
}
