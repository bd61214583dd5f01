import type { Command } from "commander";
import type { Config } from "../config.js";
import { createSnapshot } from "../snapshot/createSnapshot.js";
import { listSnapshots } from "../snapshot/listSnapshots.js";
import { restoreSnapshot } from "../snapshot/restoreSnapshot.js";
import { verifySnapshot } from "../snapshot/verifySnapshot.js";
import { outputOptions, printResult, wantsHuman, type OutputOptions } from "./output.js";
import { describeRestore, describeSnapshotCreated, describeSnapshotList, describeSnapshotVerified } from "./snapshotSummaries.js";
import { withDatabase } from "./withDatabase.js";

/** `reckon snapshot create|list|verify|restore`: thin calls into src/snapshot. */
export function registerSnapshotCommands(program: Command, config: () => Config): void {
  const snapshot = program.command("snapshot").description("consistent copies of this environment's database");
  const dirOption = ["--dir <path>", "the folder of snapshots", "./snapshots"] as const;

  outputOptions(
    snapshot
      .command("create")
      .description("copy the live database (SQLite online backup, PostgreSQL pg_dump -Fc) with a manifest")
      .option(...dirOption),
  ).action(async (options: { dir: string } & OutputOptions) => {
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
    await printResult(options, { json: () => JSON.stringify(outcome), human: (style) => describeSnapshotCreated(outcome, style) });
    if (outcome.outcome !== "created") process.exitCode = 1;
  });

  outputOptions(snapshot.command("list").description("the snapshots in a folder, oldest first").option(...dirOption)).action(
    async (options: { dir: string } & OutputOptions) => {
      const found = listSnapshots(options.dir);
      // One JSON line per snapshot; nothing at all for an empty folder.
      const lines = found.map((s) => JSON.stringify({ name: s.name, environment: s.environment, engine: s.engine, schemaVersion: s.schemaVersion, createdAt: s.createdAt, bytes: s.bytes, manifest: s.manifestPath }));
      if (lines.length === 0 && !wantsHuman(options)) return;
      await printResult(options, { json: () => lines.join("\n"), human: (style) => describeSnapshotList(options.dir, found, style) });
    },
  );

  outputOptions(
    snapshot
      .command("verify")
      .description("check a snapshot's checksum, environment, schema version and row counts without restoring it")
      .argument("<manifest>", "the snapshot's .json manifest"),
  ).action(async (manifest: string, options: OutputOptions) => {
    const outcome = await verifySnapshot(manifest);
    await printResult(options, {
      json: () => JSON.stringify(outcome.outcome === "verified" ? { outcome: outcome.outcome, name: outcome.manifest.name } : outcome),
      human: (style) => describeSnapshotVerified(outcome, style),
    });
    if (outcome.outcome !== "verified") process.exitCode = 1;
  });

  outputOptions(
    snapshot
      .command("restore")
      .description("restore a snapshot into a fresh database, then check the invariant and the report chain on it")
      .argument("<manifest>", "the snapshot's .json manifest")
      .requiredOption("--to <url>", "the database to restore into (file: or postgres://); new or empty unless --force")
      .option("--force", "replace what the target holds, even the live DATABASE_URL"),
  ).action(async (manifest: string, options: { to: string; force?: boolean } & OutputOptions) => {
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
    await printResult(options, { json: () => JSON.stringify(outcome), human: (style) => describeRestore(outcome, style) });
    if (outcome.outcome !== "restored") process.exitCode = 1;
    else if (outcome.invariantViolations > 0 || outcome.reports.verdict === "failed") process.exitCode = 2;
  });
}
