import type { Command } from "commander";
import type { Config } from "../config.js";
import { createSnapshot } from "../snapshot/createSnapshot.js";
import { listSnapshots } from "../snapshot/listSnapshots.js";
import { restoreSnapshot } from "../snapshot/restoreSnapshot.js";
import { verifySnapshot } from "../snapshot/verifySnapshot.js";
import { withDatabase } from "./withDatabase.js";

/** `reckon snapshot create|list|verify|restore`: thin calls into src/snapshot. */
export function registerSnapshotCommands(program: Command, config: () => Config): void {
  const snapshot = program.command("snapshot").description("consistent copies of this environment's database");
  const dirOption = ["--dir <path>", "the folder of snapshots", "./snapshots"] as const;

  snapshot
    .command("create")
    .description("copy the live database (SQLite online backup, PostgreSQL pg_dump -Fc) with a manifest")
    .option(...dirOption)
    .action(async (options: { dir: string }) => {
      const cfg = config();
      const outcome = await withDatabase(cfg, (db) =>
        createSnapshot(db, {
          url: cfg.database.url,
          ...(cfg.database.password ? { password: cfg.database.password } : {}),
          dir: options.dir,
          environment: cfg.environment,
          now: new Date(),
        }),
      );
      console.log(JSON.stringify(outcome));
      if (outcome.outcome !== "created") process.exitCode = 1;
    });

  snapshot
    .command("list")
    .description("the snapshots in a folder, oldest first")
    .option(...dirOption)
    .action((options: { dir: string }) => {
      for (const found of listSnapshots(options.dir)) {
        console.log(JSON.stringify({ name: found.name, environment: found.environment, engine: found.engine, schemaVersion: found.schemaVersion, createdAt: found.createdAt, bytes: found.bytes, manifest: found.manifestPath }));
      }
    });

  snapshot
    .command("verify")
    .description("check a snapshot's checksum, environment, schema version and row counts without restoring it")
    .argument("<manifest>", "the snapshot's .json manifest")
    .action(async (manifest: string) => {
      const outcome = await verifySnapshot(manifest);
      console.log(JSON.stringify(outcome.outcome === "verified" ? { outcome: outcome.outcome, name: outcome.manifest.name } : outcome));
      if (outcome.outcome !== "verified") process.exitCode = 1;
    });

  snapshot
    .command("restore")
    .description("restore a snapshot into a fresh database, then check the invariant and the report chain on it")
    .argument("<manifest>", "the snapshot's .json manifest")
    .requiredOption("--to <url>", "the database to restore into (file: or postgres://); new or empty unless --force")
    .option("--force", "replace what the target holds, even the live DATABASE_URL")
    .action(async (manifest: string, options: { to: string; force?: boolean }) => {
      const cfg = config();
      const outcome = await restoreSnapshot({
        manifestPath: manifest,
        targetUrl: options.to,
        liveUrl: cfg.database.url,
        force: options.force === true,
        environment: cfg.environment,
        ...(cfg.database.password ? { password: cfg.database.password } : {}),
        verifyKey: cfg.reports.keys.verifyKey,
      });
      console.log(JSON.stringify(outcome));
      if (outcome.outcome !== "restored") process.exitCode = 1;
      else if (outcome.invariantViolations > 0 || outcome.reports.verdict === "failed") process.exitCode = 2;
    });
}
