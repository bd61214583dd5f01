import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { metricNamesInQuery, scrapeFreshApp, seriesNamesOf } from "../support/scrapeMetricsText.js";

const RULES = "ops/prometheus/alerts.yml";
const RULE_TESTS = "ops/prometheus/alerts.test.yml";
/** Series Prometheus makes itself for every target. */
const PROMETHEUS_SERIES = new Set(["up"]);

interface Rule {
  alert: string;
  expr: string;
  annotations?: Record<string, string>;
}
interface RuleTest {
  alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
}

const rules: Rule[] = (parse(readFileSync(RULES, "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);
const ruleTests: RuleTest[] = (parse(readFileSync(RULE_TESTS, "utf8")) as { tests: RuleTest[] }).tests;

function promtoolPresent(): boolean {
  return spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;
}

describe("alert rules", () => {
  it("promtool finds the rules valid and every unit test passes (CI fails without promtool)", (context) => {
    if (!promtoolPresent()) {
      // Under CI a missing promtool fails: the rules must never go unchecked there.
      if (process.env.CI === "true") throw new Error("promtool is missing; .ci/run installs Debian's prometheus package");
      context.skip("promtool is not installed (apt-get install prometheus)");
    }
    const check = execFileSync("promtool", ["check", "rules", RULES], { encoding: "utf8" });
    expect(check).toContain(`SUCCESS: ${rules.length} rules found`);
    const tested = spawnSync("promtool", ["test", "rules", RULE_TESTS], { encoding: "utf8" });
    expect(tested.stdout + tested.stderr).toContain("SUCCESS");
    expect(tested.status).toBe(0);
  });

  it("every alert has a unit test where it fires and one where it does not", () => {
    for (const rule of rules) {
      const cases = ruleTests.flatMap((test) => test.alert_rule_test ?? []).filter((entry) => entry.alertname === rule.alert);
      expect(cases.some((entry) => entry.exp_alerts.length > 0), `${rule.alert} fires somewhere`).toBe(true);
      expect(cases.some((entry) => entry.exp_alerts.length === 0), `${rule.alert} stays quiet somewhere`).toBe(true);
    }
  });

  it("every alert has a summary, a description and a runbook that exists", () => {
    for (const rule of rules) {
      expect(rule.annotations?.["summary"], rule.alert).toBeTruthy();
      expect(rule.annotations?.["description"], rule.alert).toBeTruthy();
      const runbook = rule.annotations?.["runbook_url"] ?? "";
      expect(runbook, rule.alert).toMatch(/^docs\/runbooks\/[a-z0-9-]+\.md$/);
      expect(existsSync(runbook), `${rule.alert}: ${runbook}`).toBe(true);
    }
  });

  it("every alert queries metrics that a real /metrics scrape declares", async () => {
    const exported = seriesNamesOf(await scrapeFreshApp());
    for (const rule of rules) {
      for (const name of metricNamesInQuery(rule.expr)) {
        expect(exported.has(name) || PROMETHEUS_SERIES.has(name), `${rule.alert} queries ${name}`).toBe(true);
      }
    }
  });
});
