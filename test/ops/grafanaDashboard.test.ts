import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { metricNamesInQuery, scrapeFreshApp, seriesNamesOf } from "../support/scrapeMetricsText.js";

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}
interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  templating: { list: { name: string; type: string }[] };
  panels: Panel[];
}

const dashboard = JSON.parse(readFileSync("ops/grafana/revenue-assurance.json", "utf8")) as Dashboard;
const queryPanels = dashboard.panels.filter((panel) => panel.type !== "row");

describe("ops/grafana/revenue-assurance.json", () => {
  it("takes its Prometheus as an import input and a template variable, and every query uses it", () => {
    expect(dashboard.__inputs).toContainEqual(expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" }));
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource" }));
    for (const panel of queryPanels) {
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: "${DS_PROMETHEUS}" });
      for (const target of panel.targets ?? []) expect(target.datasource, panel.title).toEqual({ type: "prometheus", uid: "${DS_PROMETHEUS}" });
    }
    expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
  });

  it("has the revenue-assurance panels: violations and adjustments by day, top deltas, backfill throughput and error rate, ACK percentiles and outcomes", () => {
    const titles = queryPanels.map((panel) => panel.title);
    for (const title of [
      "Invariant violations by day",
      "Adjustments by day",
      "Top deltas of the last run",
      "Backfill throughput",
      "Backfill error rate",
      "Webhook ACK latency percentiles",
      "Webhook outcomes",
    ]) {
      expect(titles).toContain(title);
    }
  });

  it("reads the metric names of a query, and no label, function or keyword", () => {
    expect(metricNamesInQuery("histogram_quantile(0.99, sum by (le, provider) (rate(reckon_webhook_ack_seconds_bucket[5m])))")).toEqual(["reckon_webhook_ack_seconds_bucket"]);
    expect(metricNamesInQuery("time() - max(reconciliation_last_success_timestamp_seconds) > 26 * 3600")).toEqual(["reconciliation_last_success_timestamp_seconds"]);
    expect(metricNamesInQuery('max(a_total{job="reckon", status=~"x|y"}) > 7200 or max without (instance) (b_seconds) > 0')).toEqual(["a_total", "b_seconds"]);
  });

  it("queries only metrics that a real /metrics scrape declares", async () => {
    const exported = seriesNamesOf(await scrapeFreshApp());
    const queried = queryPanels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr ?? "" })));
    expect(queried.length).toBeGreaterThan(0);
    for (const { panel, expr } of queried) {
      const names = metricNamesInQuery(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exported.has(name), `${panel} queries ${name}`).toBe(true);
    }
  });
});
