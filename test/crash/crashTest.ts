/**
 * npm run test:crash — the full crash test: on SQLite and PostgreSQL, CRASH_KILLS
 * (default 12) SIGKILLs of the real server while signed deliveries flow at
 * CRASH_RATE per second (default 600). Exits non-zero unless every ACKed delivery is
 * stored and applied exactly once. Bounded: about kills × 3 s per engine.
 */
import { createTestDatabase } from "../support/testDatabase.js";
import { runCrashCycles } from "./runCrashCycles.js";

const kills = Number(process.env.CRASH_KILLS ?? 12);
const rate = Number(process.env.CRASH_RATE ?? 600);
const engines = (process.env.CRASH_ENGINES ?? "sqlite,postgres").split(",") as ("sqlite" | "postgres")[];
let failed = false;
for (const engine of engines) {
  const database = await createTestDatabase(engine);
  try {
    const result = await runCrashCycles({
      db: database.db,
      url: database.url,
      kills,
      ratePerSecond: rate,
      cycleMs: 2_000,
      log: (line) => console.log(`[${engine}] ${line}`),
    });
    const { ackedEvents: _acked, ...faults } = result.audit;
    const clean = Object.values(faults).every((count) => count === 0);
    console.log(JSON.stringify({ engine, ...result, verdict: clean ? "pass" : "FAIL" }));
    if (!clean || result.kills < 10 || result.acked < 1_000) failed = true;
  } finally {
    await database.drop();
  }
}
process.exit(failed ? 1 : 0);
