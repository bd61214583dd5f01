import { type Command, Option } from "commander";
import type { Config } from "../config.js";
import { PROVIDERS, type Provider } from "../providers/PaymentEvent.js";
import { FINDING_STATUSES, type FindingStatus } from "../providerSync/ProviderRecords.js";
import { resolveFinding } from "../providerSync/resolveFinding.js";
import { listFindings } from "../providerSync/storeFindings.js";
import { withDatabase } from "./withDatabase.js";

/** `reckon provider …`: the provider findings a sync stored, and resolving one; thin over the route's functions. */
export function registerProviderCommands(program: Command, config: () => Config, cliActor: (by: string | undefined) => string): void {
  const provider = program.command("provider").description("findings of the provider sync (reckon backfill provider-sync)");
  provider
    .command("findings")
    .description("list provider findings")
    .option("--date <date>", "the provider record's day, YYYY-MM-DD")
    .addOption(new Option("--status <status>", "open, repaired, resolved or reported").choices(FINDING_STATUSES))
    .addOption(new Option("--provider <provider>", "whose findings").choices(PROVIDERS))
    .action((options: { date?: string; status?: FindingStatus; provider?: Provider }) =>
      withDatabase(config(), async (db) => {
        console.log(JSON.stringify(await listFindings(db.kysely, { ...options, limit: 1000 }), null, 2));
      }),
    );
  provider
    .command("resolve <finding>")
    .description("credit an unattributed purchase to --uid, or apply a refund or chargeback never applied; audited")
    .option("--uid <uid>", "the user to credit (for paid_not_credited and user_unknown)")
    .option("--by <name>", "who is resolving it (default: the OS user)")
    .action((id: string, options: { uid?: string; by?: string }) => {
      const cfg = config();
      return withDatabase(cfg, async (db) => {
        const outcome = await resolveFinding(db, {
          id,
          ...(options.uid === undefined ? {} : { uid: options.uid }),
          actor: cliActor(options.by),
          now: new Date(),
          reversalPolicy: cfg.webhooks.reversalPolicy,
        });
        console.log(JSON.stringify(outcome, null, 2));
        if (outcome.outcome !== "resolved") process.exitCode = 1;
      });
    });
}
