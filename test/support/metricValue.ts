/** The value of the unlabelled metric `name` in a Prometheus text exposition; a missing metric throws. */
export function metricValue(text: string, name: string): number {
  const line = text.split("\n").find((row) => row.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} missing`);
  return Number(line.split(" ")[1]);
}
