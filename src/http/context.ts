import type { Config } from "../config.js";
import type { Db } from "../storage/openDatabase.js";
import type { AuthServices } from "./authenticate.js";

/** What every route handler may use; the clock is injected so tests can fix it. */
export interface AppContext {
  db: Db;
  config: Config;
  now: () => Date;
  auth: AuthServices;
}
