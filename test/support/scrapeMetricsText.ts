import { createTestDatabase } from "./testDatabase.js";
import { buildTestApp } from "./testApp.js";

/** One metric family as `/metrics` declares it (`# HELP` and `# TYPE` lines). */
export interface ScrapedFamily {
  name: string;
  type: string;
  help: string;
}

/** The text of `GET /metrics` from the real app over a fresh SQLite database. */
export async function scrapeFreshApp(): Promise<string> {
  const database = await createTestDatabase("sqlite");
  try {
    const { app } = await buildTestApp(database.db);
    const response = await app.inject({ method: "GET", url: "/metrics" });
    await app.close();
    if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}`);
    return response.body;
  } finally {
    await database.drop();
  }
}

/** The families a scrape declares, in its order. */
export function familiesOf(text: string): ScrapedFamily[] {
  const helps = new Map<string, string>();
  const families: ScrapedFamily[] = [];
  for (const line of text.split("\n")) {
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help) helps.set(help[1]!, help[2]!);
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) families.push({ name: type[1]!, type: type[2]!, help: helps.get(type[1]!) ?? "" });
  }
  return families;
}

/** Every series name a query may use: a histogram's `_bucket`, `_sum` and `_count` included. */
export function seriesNamesOf(text: string): Set<string> {
  const names = new Set<string>();
  for (const family of familiesOf(text)) {
    if (family.type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(family.name + suffix);
    else if (family.type === "summary") for (const suffix of ["", "_sum", "_count"]) names.add(family.name + suffix);
    else names.add(family.name);
  }
  return names;
}

/** Metric names in a PromQL expression: identifiers not followed by `(`, outside label matchers and strings. */
export function metricNamesInQuery(expr: string): string[] {
  const withoutMatchers = expr.replace(/\{[^}]*\}/g, "").replace(/"[^"]*"/g, "").replace(/\[[^\]]*\]/g, "");
  const keywords = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "le", "inf", "nan"]);
  const names = new Set<string>();
  // `by (le, provider)` lists labels, not metrics.
  const stripped = withoutMatchers.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  for (const match of stripped.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)) {
    const name = match[1]!;
    if (!keywords.has(name.toLowerCase()) && !/^\d/.test(name) && !name.startsWith("$")) names.add(name);
  }
  return [...names];
}
