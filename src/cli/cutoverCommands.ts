import { readFileSync } from "node:fs";
import { InvalidArgumentError, type Command } from "commander";
import type { Config } from "../config.js";
import { describeReport, type CutoverReport } from "../cutover/CutoverCheck.js";
import { runPreflight } from "../cutover/runPreflight.js";
import { verifyCutover } from "../cutover/verifyCutover.js";
import { checkRunDate, todayUtc } from "../reconcile/checkRunDate.js";
import { withDatabase } from "./withDatabase.js";

/** `reckon cutover preflight|verify`: thin calls into src/cutover (docs/runbooks/cutover.md). */

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return Number(value);
  };
}

function runDate(value: string): string {
  const check = checkRunDate(value, new Date());
  if (!check.ok) throw new InvalidArgumentError(check.message);
  return check.date;
}

/** A refusal before any check could run: a stable code, exit 1. */
function refuse(json: boolean | undefined, code: string, message: string): void {
  console.log(json ? JSON.stringify({ outcome: "failed", error: { code, message } }) : `cutover: ${code}: ${message}`);
  process.exitCode = 1;
}

function print(title: string, report: CutoverReport, json: boolean | undefined): void {
  console.log(json ? JSON.stringify(report) : describeReport(title, report));
  if (report.outcome !== "passed") process.exitCode = 1;
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "ECONNRESET", "SQLITE_CANTOPEN"]);

export function registerCutoverCommands(program: Command, config: () => Config): void {
  const cutover = program.command("cutover").description("going live: checks before and after switching the providers' webhooks");

  cutover
    .command("preflight")
    .description("check every condition of the switch (runs, events, dry runs, freeze, snapshot, prod configuration); exit 1 on any failure")
    .option("--days <n>", "consecutive days that must each have a clean reconciliation run", wholeNumber(1, 93), 7)
    .option("--max-violations <n>", "violations a run may find and still count as clean", wholeNumber(0, 1_000_000_000), 0)
    .option("--snapshot-dir <path>", "the folder of snapshots", "./snapshots")
    .option("--snapshot-max-age-hours <n>", "the newest snapshot must be younger than this", wholeNumber(1, 8760), 24)
    .option("--json", "print the checks as JSON")
    .action(async (options: { days: number; maxViolations: number; snapshotDir: string; snapshotMaxAgeHours: number; json?: boolean }) => {
      const cfg = config();
      let report: CutoverReport;
      try {
        report = await withDatabase(cfg, (db) => runPreflight(db, cfg, { ...options, now: new Date() }));
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code !== "string" || !NETWORK_CODES.has(code)) throw error;
        refuse(options.json, "database_unreachable", `cannot open the ${cfg.environment} database: ${code}`);
        return;
      }
      print("preflight", report, options.json);
    });

  cutover
    .command("verify")
    .description("check a live instance over HTTP: /readyz, webhook p99 ACK, the seed metrics, the first reconciliation, /admin; exit 1 on any failure")
    .requiredOption("--url <url>", "the instance, e.g. https://reckon.example")
    .requiredOption("--token-file <path>", "a file holding an admin API token (reckon admin token create --role admin)")
    .option("--date <YYYY-MM-DD>", "the date of the first reconciliation after the switch (default today, UTC)", runDate)
    .option("--ack-p99-max-ms <n>", "the webhook ACK p99 must be under this", wholeNumber(1, 60_000), 250)
    .option("--timeout-ms <n>", "how long each request may take", wholeNumber(1, 600_000), 5_000)
    .option("--json", "print the checks as JSON")
    .action(async (options: { url: string; tokenFile: string; date?: string; ackP99MaxMs: number; timeoutMs: number; json?: boolean }) => {
      let url: URL;
      try {
        url = new URL(options.url);
        if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
      } catch {
        refuse(options.json, "invalid_url", `--url must be an http:// or https:// URL, got ${JSON.stringify(options.url)}`);
        return;
      }
      let adminToken: string;
      try {
        adminToken = readFileSync(options.tokenFile, "utf8").trim();
      } catch (error) {
        refuse(options.json, "token_file_unreadable", `cannot read ${options.tokenFile}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
        return;
      }
      const report = await verifyCutover({ url, adminToken, date: options.date ?? todayUtc(new Date()), ackP99MaxMs: options.ackP99MaxMs, timeoutMs: options.timeoutMs });
      print("verify", report, options.json);
    });
}
