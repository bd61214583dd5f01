import type { Config } from "../config.js";
import type { Db } from "../storage/openDatabase.js";

/** What every route handler may use; the clock is injected so tests can fix it. */
export interface AppContext {
  db: Db;
  config: Config;
  now: () => Date;
}
