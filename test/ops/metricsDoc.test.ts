import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { registry } from "../../src/ops/metrics.js";
import { storedStateMetrics } from "../../src/ops/storedStateMetrics.js";
import { familiesOf, scrapeFreshApp } from "../support/scrapeMetricsText.js";
import { createTestDatabase } from "../support/testDatabase.js";

const DOC = "docs/metrics.md";
const BEGIN = "<!-- metrics-table:begin (checked by test/ops/metricsDoc.test.ts; UPDATE_METRICS_DOC=1 rewrites it) -->";
const END = "<!-- metrics-table:end -->";
/** prom-client's default process metrics: described once in the doc, not one row each. */
const DEFAULT_PREFIXES = ["process_", "nodejs_"];

/** Label names of every metric Reckon declares, from the metric objects themselves. */
async function labelsByName(): Promise<Map<string, string[]>> {
  const database = await createTestDatabase("sqlite");
  try {
    const metrics = [...registry.getMetricsAsArray(), ...storedStateMetrics(database.db).getMetricsAsArray()];
    return new Map(metrics.map((metric) => [metric.name, [...((metric as unknown as { labelNames?: string[] }).labelNames ?? [])]]));
  } finally {
    await database.drop();
  }
}

async function storedNames(): Promise<Set<string>> {
  const database = await createTestDatabase("sqlite");
  try {
    return new Set(storedStateMetrics(database.db).getMetricsAsArray().map((metric) => metric.name));
  } finally {
    await database.drop();
  }
}

describe("docs/metrics.md", () => {
  it("lists exactly the metrics a real /metrics scrape declares, with their type, labels, source and meaning", async () => {
    const families = familiesOf(await scrapeFreshApp()).filter((family) => !DEFAULT_PREFIXES.some((prefix) => family.name.startsWith(prefix)));
    const labels = await labelsByName();
    const stored = await storedNames();
    const rows = families.map((family) => {
      const labelText = (labels.get(family.name) ?? []).map((label) => `\`${label}\``).join(", ") || "none";
      const source = stored.has(family.name) ? "stored state" : "this process";
      return `| \`${family.name}\` | ${family.type} | ${labelText} | ${source} | ${family.help.replaceAll("|", "\\|")} |`;
    });
    const table = [BEGIN, "| name | type | labels | source | meaning |", "|---|---|---|---|---|", ...rows, END].join("\n");
    const doc = readFileSync(DOC, "utf8");
    const start = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    expect(start, "the doc has the table's markers").toBeGreaterThanOrEqual(0);
    const current = doc.slice(start, end + END.length);
    if (process.env.UPDATE_METRICS_DOC === "1" && current !== table) writeFileSync(DOC, doc.slice(0, start) + table + doc.slice(end + END.length));
    else expect(current).toBe(table);
    // The four names the seed fixed are there, exactly.
    for (const name of ["wallet_invariant_violations", "reconciliation_adjustment_amount", "backfill_processed_events", "backfill_error_rate"]) {
      expect(families.map((family) => family.name)).toContain(name);
    }
  });
});
