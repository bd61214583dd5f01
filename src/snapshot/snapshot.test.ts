import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importWallets } from "../import/importWallets.js";
import { runReconciliation } from "../reconcile/runReconciliation.js";
import { openDatabase } from "../storage/openDatabase.js";
import { exportFolder, reckonLines } from "../../test/support/legacyExport.js";
import { tableHashes } from "../../test/support/tableHashes.js";
import { adminQuery, createTestDatabase, ENGINES, PG_ADMIN_URL, type TestDatabase } from "../../test/support/testDatabase.js";
import { createSnapshot } from "./createSnapshot.js";
import { listSnapshots } from "./listSnapshots.js";
import { restoreSnapshot, type RestoreSnapshotRequest } from "./restoreSnapshot.js";
import { verifySnapshot } from "./verifySnapshot.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");

for (const engine of ENGINES) {
  describe(`snapshots [${engine}]`, () => {
    const dir = mkdtempSync(join(tmpdir(), "reckon-snapshots-"));
    const files = exportFolder();
    const targets: string[] = [];
    let source: TestDatabase;
    let manifestPath: string;
    /** A database URL nobody has used yet (a PostgreSQL one is created by the restore). */
    const freshTarget = () => {
      const name = `reckon_t_restore_${randomBytes(4).toString("hex")}`;
      targets.push(name);
      if (engine === "sqlite") return `file:${join(dir, `${name}.db`)}`;
      const url = new URL(PG_ADMIN_URL);
      url.pathname = `/${name}`;
      return url.toString();
    };
    const restore = (overrides: Partial<RestoreSnapshotRequest>) =>
      restoreSnapshot({ manifestPath, targetUrl: freshTarget(), liveUrl: source.url, force: false, environment: "test", verifyKey: null, ...overrides });
    /** Whether a restore target was created: a SQLite file, or a PostgreSQL database. */
    const targetExists = async (targetUrl: string) => {
      if (engine === "sqlite") return existsSync(targetUrl.slice("file:".length));
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      try {
        return (await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [new URL(targetUrl).pathname.slice(1)])).rowCount === 1;
      } finally {
        await client.end();
      }
    };
    /** A copy of the manifest with some fields changed, beside the original (so it names the same copy). */
    const editedManifest = (name: string, change: Record<string, unknown>) => {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(manifestPath, "utf8")), ...change }));
      return path;
    };

    beforeAll(async () => {
      source = await createTestDatabase(engine);
      const users = [
        { uid: "alice", points: 70, entries: [{ id: "a1", amount: 70, at: "2025-01-01T00:00:00Z" }] },
        { uid: "bob", points: 55, entries: [{ id: "b1", amount: 50, at: "2025-01-01T00:00:00Z" }] },
      ];
      await importWallets(source.db, { file: files.write("export.jsonl", reckonLines(users)), format: "reckon", dryRun: false, actor: "test", now: NOW });
      // A report-only run keeps bob's drift, so the restored copy's invariant check has something to find.
      await runReconciliation(source.db, { date: "2026-03-01", policy: "report_only", chunkUsers: 100, mode: "start", now: () => NOW });
      const created = await createSnapshot(source.db, { url: source.url, dir, environment: "test", now: NOW });
      if (created.outcome !== "created") throw new Error(created.problem);
      manifestPath = created.manifestPath;
    });
    afterAll(async () => {
      await source.drop();
      if (engine === "postgres") for (const name of targets) await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      rmSync(dir, { recursive: true, force: true });
      files.remove();
    });

    it("a snapshot records its environment, engine, schema version, time, row counts and checksum, and is listed", async () => {
      const [listed] = listSnapshots(dir);
      expect(listed).toMatchObject({ environment: "test", engine, createdAt: NOW.toISOString(), manifestPath });
      expect(listed!.schemaVersion).toBeGreaterThan(0);
      expect(listed!.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(listed!.rowCounts).toMatchObject({ wallets: 2, ledger_entries: 2, reconciliation_runs: 1, reconciliation_user_reports: 2 });
      expect(await verifySnapshot(manifestPath)).toMatchObject({ outcome: "verified" });
    });

    it("verify finds a copy changed by one byte, and a manifest whose row counts were edited, without restoring", async () => {
      const tamperedDir = mkdtempSync(join(dir, "tampered-"));
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
      const copy = join(tamperedDir, manifest.file);
      copyFileSync(join(dir, manifest.file), copy);
      const bytes = readFileSync(copy);
      bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
      writeFileSync(copy, bytes);
      writeFileSync(join(tamperedDir, "m.json"), JSON.stringify(manifest));
      const changed = await verifySnapshot(join(tamperedDir, "m.json"));
      expect(changed).toMatchObject({ outcome: "failed", problems: [expect.stringContaining("SHA-256")] });
      const counts = await verifySnapshot(editedManifest("counts.json", { rowCounts: { ...manifest.rowCounts, ledger_entries: 3 } }));
      expect(counts).toEqual({ outcome: "failed", problems: ["ledger_entries: the copy holds 2 rows, the manifest says 3"] });
    });

    it("restore brings back every table as it was, then checks the invariant and the report chain on it", async () => {
      const targetUrl = freshTarget();
      const outcome = await restore({ targetUrl });
      expect(outcome).toMatchObject({ outcome: "restored", invariantViolations: 1, reports: { verdict: "unsigned", runsChecked: 1, problems: 0 } });
      const restored = openDatabase(targetUrl, { poolSize: 2 });
      try {
        expect(await tableHashes(restored)).toEqual(await tableHashes(source.db));
      } finally {
        await restored.close();
      }
      // The same target again now holds data: refused without --force, replaced with it.
      expect(await restore({ targetUrl })).toMatchObject({ outcome: "target_not_empty" });
      expect(await restore({ targetUrl, force: true })).toMatchObject({ outcome: "restored", invariantViolations: 1 });
    });

    it("restoring a snapshot of the other environment is refused before anything is written: no target, the source unchanged", async () => {
      const before = await tableHashes(source.db);
      const targetUrl = freshTarget();
      const prod = await restore({ manifestPath: editedManifest("prod-refused.json", { environment: "prod" }), targetUrl });
      expect(prod).toEqual({ outcome: "wrong_environment", snapshot: "prod", expected: "test" });
      expect(await targetExists(targetUrl)).toBe(false);
      expect(await tableHashes(source.db)).toEqual(before);
    });

    it("a truncated copy is refused by verify, and a restore of it creates nothing", async () => {
      const truncatedDir = mkdtempSync(join(dir, "truncated-"));
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
      const bytes = readFileSync(join(dir, manifest.file));
      writeFileSync(join(truncatedDir, manifest.file), bytes.subarray(0, Math.floor(bytes.length / 2)));
      const truncated = join(truncatedDir, "m.json");
      writeFileSync(truncated, JSON.stringify(manifest));
      expect(await verifySnapshot(truncated)).toMatchObject({
        outcome: "failed",
        problems: expect.arrayContaining([`the copy has ${Math.floor(bytes.length / 2)} bytes, the manifest says ${manifest.bytes}`]),
      });
      const targetUrl = freshTarget();
      expect(await restore({ manifestPath: truncated, targetUrl })).toMatchObject({ outcome: "verify_failed" });
      expect(await targetExists(targetUrl)).toBe(false);
    });

    it("restore refuses a snapshot of the other environment, of a newer schema, or over the live database, and writes nothing", async () => {
      const prod = await restore({ manifestPath: editedManifest("prod.json", { environment: "prod" }) });
      expect(prod).toEqual({ outcome: "wrong_environment", snapshot: "prod", expected: "test" });
      const newer = await restore({ manifestPath: editedManifest("newer.json", { schemaVersion: 999 }) });
      expect(newer).toMatchObject({ outcome: "newer_schema", snapshot: 999 });
      const before = await tableHashes(source.db);
      expect(await restore({ targetUrl: source.url })).toMatchObject({ outcome: "live_target" });
      expect(await tableHashes(source.db)).toEqual(before);
    });
  });
}
