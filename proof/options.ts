import { parseArgs } from "node:util";

export interface ProofOptions {
  minutes: number;
  seed: number;
  engine: "sqlite" | "postgres";
  instances: number;
  /** PostgreSQL as a primary with a synchronous standby; the primary is SIGKILLed mid-run. */
  failover: boolean;
  users: number;
  concurrency: number;
}

/** `npm run proof -- --minutes N --seed S --engine postgres|sqlite --instances K [--failover]`. */
export function readOptions(argv: string[]): ProofOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: "string", default: "3" },
      seed: { type: "string" },
      engine: { type: "string", default: "postgres" },
      instances: { type: "string" },
      failover: { type: "boolean", default: false },
      users: { type: "string", default: "200" },
      concurrency: { type: "string", default: "12" },
    },
    strict: true,
  });
  const engine = values.engine;
  if (engine !== "sqlite" && engine !== "postgres") throw new Error("--engine must be sqlite or postgres");
  const minutes = Number(values.minutes);
  if (!(minutes > 0 && minutes <= 120)) throw new Error("--minutes must be a number above 0 and at most 120");
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error("--seed must be a whole number");
  // SQLite is the embedded engine: one process owns its file.
  const instances = engine === "sqlite" ? 1 : Number(values.instances ?? "3");
  if (!Number.isInteger(instances) || instances < 1 || instances > 16) throw new Error("--instances must be 1 to 16 (1 on sqlite)");
  if (values.failover && engine !== "postgres") throw new Error("--failover needs --engine postgres");
  const users = Number(values.users);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(users) || users < 1) throw new Error("--users must be a whole number");
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new Error("--concurrency must be 1 to 256");
  return { minutes, seed, engine, instances, failover: values.failover ?? false, users, concurrency };
}
