import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

const FILE = new URL("../docs/benchmarks.md", import.meta.url);
const HEADER = `# Benchmarks

Each section is written by its benchmark (\`npm run bench:<name>\`) and replaced when it runs
again. Figures come from the machine named in the section; this one is noisy, so ratios
against a baseline measured in the same run matter more than absolute numbers.
`;

/**
 * Prints the benchmark's figures as one JSON object and replaces its section of
 * docs/benchmarks.md, leaving the other benchmarks' sections as they are.
 */
/** `command` is what produced the figures, when it is not `npm run bench:<name>`. */
export function recordBenchmark(name: string, figures: Record<string, unknown>, notes: string[] = [], command = `npm run bench:${name}`): void {
  const result = { benchmark: name, at: new Date().toISOString(), ...figures };
  console.log(JSON.stringify(result));
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const section = [
    `<!-- bench:${name} -->`,
    `## ${name}`,
    "",
    `Run \`${command}\` on ${result.at.slice(0, 10)}; ${machine}.`,
    "",
    ...notes.map((note) => `${note}`),
    ...(notes.length > 0 ? [""] : []),
    "```json",
    JSON.stringify(result, null, 2),
    "```",
    `<!-- /bench:${name} -->`,
  ].join("\n");
  const current = existsSync(FILE) ? readFileSync(FILE, "utf8") : HEADER;
  const pattern = new RegExp(`<!-- bench:${name} -->[\\s\\S]*?<!-- /bench:${name} -->`);
  const next = pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(FILE, next);
}
