/** A concrete URL for a route pattern: each `:param` gets a value its parser accepts. */
export function sampleUrl(pattern: string): string {
  const samples: Record<string, string> = { uid: "sample_user", id: "1", date: "2026-01-01", name: "adjustments_frozen" };
  return pattern.replace(/:([A-Za-z_]+)/g, (_match, param: string) => samples[param] ?? "sample1");
}
