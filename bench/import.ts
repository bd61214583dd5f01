import { execFile } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import buildOnce from "../test/support/buildOnce.js";
import { reckonArgs } from "../test/support/reckonCommand.js";
import { createTestDatabase, invariantViolations } from "../test/support/testDatabase.js";
import { recordBenchmark } from "./recordBenchmark.js";

/**
 * Legacy import of BENCH_ENTRIES entries (default 1,000,000) for BENCH_USERS users
 * (default 100,000), 1% of them with a planted drift, on each engine of BENCH_ENGINES.
 * Each engine's import is the command a user runs, `node bin/reckon.js import wallets`
 * on the compiled build, in its own process, so its peak RSS is the import's alone.
 * BENCH_CPU_PROFILE_DIR=<dir> writes that process's V8 CPU profiles (one per thread).
 */
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const ENGINES = (process.env.BENCH_ENGINES ?? "sqlite,postgres").split(",") as ("sqlite" | "postgres")[];
/** A folder to write each child's V8 CPU profile to (`node --cpu-prof`), when set. */
const CPU_PROFILE_DIR = process.env.BENCH_CPU_PROFILE_DIR;
const run = promisify(execFile);

async function writeExport(path: string): Promise<number> {
  const out = createWriteStream(path);
  const write = (line: string) => (out.write(line) ? Promise.resolve() : new Promise<void>((resolve) => out.once("drain", () => resolve())));
  let drifted = 0;
  for (let user = 0; user < USERS; user++) {
    const uid = `legacy_${String(user).padStart(7, "0")}`;
    const count = Math.floor(ENTRIES / USERS) + (user < ENTRIES % USERS ? 1 : 0);
    const amounts = Array.from({ length: count }, (_, index) => (index % 3 === 2 ? -((user % 7) + 1) : 10 + (index % 5)));
    const sum = amounts.reduce((total, amount) => total + amount, 0);
    const drift = user % 100 === 0 ? 3 : 0;
    if (drift) drifted += 1;
    let lines = `${JSON.stringify({ type: "wallet", uid, points: sum + drift })}\n`;
    for (const [index, amount] of amounts.entries()) {
      const at = new Date(Date.UTC(2024, 0, 1) + user * 1000 + index).toISOString();
      lines += `${JSON.stringify({ type: "entry", uid, id: `tx${index}`, amount, at })}\n`;
    }
    await write(lines);
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return drifted;
}

/** The compiled CLI's import of `file` into the database at `url`: its summary, wall time, CPU time and peak RSS. */
async function runImport(url: string, file: string) {
  const profile = CPU_PROFILE_DIR ? ["--cpu-prof", "--cpu-prof-dir", CPU_PROFILE_DIR] : [];
  const usage = ["--import", new URL("./usageOnExit.mjs", import.meta.url).href];
  const start = performance.now();
  const { stdout, stderr } = await run(process.execPath, [...profile, ...usage, ...reckonArgs(["import", "wallets", "--file", file, "--by", "bench", "--json"])], {
    env: { PATH: process.env.PATH ?? "", DATABASE_URL: url, ENVIRONMENT: "test" },
    maxBuffer: 64 << 20,
  });
  const seconds = (performance.now() - start) / 1000;
  const usageLine = stderr.split("\n").find((line) => line.startsWith("bench-usage "));
  if (!usageLine) throw new Error(`no usage figures from the import: ${stderr}`);
  const { cpuSeconds, peakRssMb } = JSON.parse(usageLine.slice("bench-usage ".length)) as { cpuSeconds: number; peakRssMb: number };
  const { problems, drift, mismatches, ...counts } = JSON.parse(stdout) as { problems: unknown[]; drift: unknown[]; mismatches: unknown[]; entriesPosted: number; users: number };
  return { seconds, cpuSeconds, peakRssMb, problems: problems.length, drift: drift.length, mismatches: mismatches.length, ...counts };
}

async function measure(engine: "sqlite" | "postgres", file: string, drifted: number) {
  const database = await createTestDatabase(engine, { poolSize: 2 });
  try {
    const figures = await runImport(database.url, file);
    const violations = (await invariantViolations(database.db)).length;
    if (figures.entriesPosted !== ENTRIES || figures.problems !== 0 || figures.drift !== drifted || violations !== drifted) {
      throw new Error(`import incomplete: ${JSON.stringify({ ...figures, violations, drifted })}`);
    }
    return {
      engine,
      entries: figures.entriesPosted,
      users: figures.users,
      seconds: Number(figures.seconds.toFixed(2)),
      entriesPerSecond: Math.round(figures.entriesPosted / figures.seconds),
      importCpuSeconds: Number(figures.cpuSeconds.toFixed(2)),
      entriesPerCpuSecond: Math.round(figures.entriesPosted / figures.cpuSeconds),
      peakRssMb: figures.peakRssMb,
      driftReported: figures.drift,
      invariantViolations: violations,
    };
  } finally {
    await database.drop();
  }
}

{
  buildOnce();
  const dir = mkdtempSync(join(tmpdir(), "reckon-bench-import-"));
  try {
    const file = join(dir, "export.jsonl");
    const loadAtStart = loadavg();
    const drifted = await writeExport(file);
    const results = [];
    for (const engine of ENGINES) results.push(await measure(engine, file, drifted));
    recordBenchmark("import", { entries: ENTRIES, users: USERS, results }, [
      "`node bin/reckon.js import wallets --json` (the compiled build, as a user runs it) streams a Reckon-format export (wallet line, then",
      "the user's entries) into a fresh database; 1% of users carry a planted drift of +3, which must be reported and be exactly the",
      "invariant violations afterwards. `seconds` is that command's wall time from start to exit, `entriesPerSecond` divides by it.",
      "`peakRssMb` is the process's maximum resident set. `entriesPerCpuSecond` divides by its CPU time (user + system, every thread;",
      "on PostgreSQL the server's work is not in it), a figure less bent by other load on a shared machine than wall-clock `entriesPerSecond`.",
      "Targets from issue 13: ≥ 50,000 entries/s on SQLite, RSS ≤ 300 MB.",
      `Load average when the run started: ${loadAtStart.map((load) => load.toFixed(1)).join(", ")}.`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
