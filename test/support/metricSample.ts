/** A sample's value in Prometheus exposition text; labels must match exactly. Throws when absent. */
export function metricSample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort()
    .join(",");
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = (match[2] ?? "").split(",").filter(Boolean).sort().join(",");
    if (found === wanted) return Number(match[3]);
  }
  throw new Error(`metric ${name}${wanted ? `{${wanted}}` : ""} missing`);
}
