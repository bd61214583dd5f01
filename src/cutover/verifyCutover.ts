import { failed, passed, toReport, type CutoverCheck, type CutoverReport } from "./CutoverCheck.js";
import { histogramQuantile } from "./histogramQuantile.js";
import { bucketsOf, readExposition } from "./readExposition.js";

/** The seed's metric names, exported by every instance (docs/metrics.md). */
export const SEED_METRICS = ["wallet_invariant_violations", "reconciliation_adjustment_amount", "backfill_processed_events", "backfill_error_rate"] as const;
const ACK_HISTOGRAM = "reckon_webhook_ack_seconds";

export interface VerifyOptions {
  url: URL;
  /** An admin API token (or OIDC ID token of the admin role), for the reconciliation report. */
  adminToken: string;
  /** The run that must be clean: the first reconciliation after the switch. */
  date: string;
  ackP99MaxMs: number;
  timeoutMs: number;
}

type Fetched = { ok: true; status: number; text: string; contentType: string } | { ok: false; reason: string };

async function get(options: VerifyOptions, path: string, headers: Record<string, string> = {}): Promise<Fetched> {
  const target = new URL(path, options.url);
  try {
    const response = await fetch(target, { headers, signal: AbortSignal.timeout(options.timeoutMs) });
    return { ok: true, status: response.status, text: await response.text(), contentType: response.headers.get("content-type") ?? "" };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    return { ok: false, reason: `cannot reach ${target.href}: ${why}` };
  }
}

/** The `{ error: { code } }` of a Reckon answer, when it is one. */
function errorCode(text: string): string | null {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    return null;
  }
}

async function checkReady(options: VerifyOptions): Promise<CutoverCheck> {
  const answer = await get(options, "/readyz");
  if (!answer.ok) return failed("readyz", "unreachable", answer.reason);
  if (answer.status !== 200) return failed("readyz", "not_ready", `/readyz answered ${answer.status}: ${answer.text.slice(0, 200)}`);
  return passed("readyz", `ready: ${answer.text.slice(0, 200)}`);
}

function checkAck(options: VerifyOptions, metrics: string): CutoverCheck {
  const name = "webhook_ack_p99";
  const buckets = bucketsOf(readExposition(metrics).samples, ACK_HISTOGRAM);
  const p99 = histogramQuantile(0.99, buckets);
  if (p99 === null) return failed(name, "no_deliveries", "this instance has ACKed no webhook delivery yet: send a test delivery from each provider's dashboard, then verify again");
  const p99Ms = Math.round(p99 * 1000);
  const observed = buckets.find((bucket) => bucket.le === Infinity)?.count ?? 0;
  const over = `p99 ${p99Ms} ms over ${observed} deliveries`;
  if (p99Ms >= options.ackP99MaxMs) return failed(name, "ack_slow", `${over}, at least ${options.ackP99MaxMs} ms (docs/runbooks/webhook-ack-slow.md)`);
  return passed(name, `${over}, under ${options.ackP99MaxMs} ms`);
}

function checkSeedMetrics(metrics: string): CutoverCheck {
  const { families } = readExposition(metrics);
  const missing = SEED_METRICS.filter((name) => !families.has(name));
  if (missing.length > 0) return failed("seed_metrics", "metric_missing", `/metrics does not export ${missing.join(", ")}`);
  return passed("seed_metrics", `/metrics exports ${SEED_METRICS.join(", ")}`);
}

async function checkMetrics(options: VerifyOptions): Promise<CutoverCheck[]> {
  const answer = await get(options, "/metrics");
  if (!answer.ok) return ["webhook_ack_p99", "seed_metrics"].map((name) => failed(name, "unreachable", answer.reason));
  if (answer.status !== 200) return ["webhook_ack_p99", "seed_metrics"].map((name) => failed(name, "metrics_unavailable", `/metrics answered ${answer.status}`));
  return [checkAck(options, answer.text), checkSeedMetrics(answer.text)];
}

async function checkReconciliation(options: VerifyOptions): Promise<CutoverCheck> {
  const name = "first_reconciliation";
  const answer = await get(options, `/api/reconciliation/reports/${options.date}`, { authorization: `Bearer ${options.adminToken}` });
  if (!answer.ok) return failed(name, "unreachable", answer.reason);
  if (answer.status === 401 || answer.status === 403) {
    return failed(name, "token_refused", `the admin token was refused (${answer.status} ${errorCode(answer.text) ?? ""}): give an admin API token with --token-file`);
  }
  if (answer.status === 404) return failed(name, "report_not_found", `no reconciliation run for ${options.date} yet`);
  if (answer.status !== 200) return failed(name, "report_unavailable", `the report answered ${answer.status} ${errorCode(answer.text) ?? ""}`);
  const run = JSON.parse(answer.text) as { runId: number; status: string; violations: number; refused: number; usersChecked: number };
  if (run.status !== "completed" || run.violations > 0 || run.refused > 0) {
    return failed(name, "reconciliation_not_clean", `run ${run.runId} of ${options.date} is ${run.status} with ${run.violations} violations, ${run.refused} refused heals`);
  }
  return passed(name, `run ${run.runId} of ${options.date} completed: ${run.usersChecked} users, no violations`);
}

async function checkAdmin(options: VerifyOptions): Promise<CutoverCheck> {
  const answer = await get(options, "/admin");
  if (!answer.ok) return failed("admin", "unreachable", answer.reason);
  if (answer.status === 200 && answer.contentType.startsWith("text/html") && answer.text.includes('action="/admin/login"')) {
    return passed("admin", "/admin answers its login page");
  }
  return failed("admin", "admin_unavailable", `/admin answered ${answer.status} without the login form`);
}

/** `reckon cutover verify`: the checks of a live instance, over HTTP only, as an operator would make them. */
export async function verifyCutover(options: VerifyOptions): Promise<CutoverReport> {
  return toReport([await checkReady(options), ...(await checkMetrics(options)), await checkReconciliation(options), await checkAdmin(options)]);
}
