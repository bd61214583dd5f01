/**
 * Terminology: a *check* is one condition of going live (preflight, before the switch) or
 * of being live (verify, after it). A failed check carries a stable `code` and a reason
 * in words that says what to do; a cutover may proceed only when every check is ok.
 */
export type CutoverCheck = { name: string; ok: true; reason: string } | { name: string; ok: false; code: string; reason: string };

export interface CutoverReport {
  outcome: "passed" | "failed";
  checks: CutoverCheck[];
}

export function passed(name: string, reason: string): CutoverCheck {
  return { name, ok: true, reason };
}

export function failed(name: string, code: string, reason: string): CutoverCheck {
  return { name, ok: false, code, reason };
}

export function toReport(checks: CutoverCheck[]): CutoverReport {
  return { outcome: checks.every((check) => check.ok) ? "passed" : "failed", checks };
}

/** The terminal form: one line per check, then the verdict. */
export function describeReport(title: string, report: CutoverReport): string {
  return [
    ...report.checks.map((check) => `${check.ok ? "ok    " : "FAILED"} ${check.name}: ${check.ok ? "" : `${check.code}: `}${check.reason}`),
    `${title} ${report.outcome}`,
  ].join("\n");
}
