import type { Command } from "commander";
import type { Config } from "../config.js";
import { setFlag } from "../flags/setFlag.js";
import { withTransaction } from "../storage/withTransaction.js";
import { describeFlagSet } from "./adminSummaries.js";
import { outputOptions, printResult, type OutputOptions } from "./output.js";
import { withDatabase } from "./withDatabase.js";

/**
 * `reckon admin freeze|unfreeze`: the cutover freeze, i.e. the runtime flag
 * `adjustments_frozen`. Every instance reads it on each manual adjustment or reversal,
 * so it holds everywhere as soon as the command returns.
 */
export function registerFreezeCommands(admin: Command, config: () => Config, actor: (by: string | undefined) => string): void {
  for (const [name, value, description] of [
    ["freeze", true, "refuse manual adjustments and reversals on every instance (423) until unfrozen; audited"],
    ["unfreeze", false, "allow manual adjustments and reversals again; audited"],
  ] as const) {
    outputOptions(admin.command(name).description(description).option("--by <name>", "who is making the change (default: the OS user)")).action(
      async (options: { by?: string } & OutputOptions) => {
        const outcome = await withDatabase(config(), (db) =>
          withTransaction(db, (trx) => setFlag(trx, { name: "adjustments_frozen", value, actor: actor(options.by), now: new Date() })),
        );
        await printResult(options, { json: () => JSON.stringify(outcome), human: (style) => describeFlagSet(outcome, style) });
      },
    );
  }
}
