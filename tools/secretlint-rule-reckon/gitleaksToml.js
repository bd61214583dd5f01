import { realpathSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RULES } from "./rules.js";

/**
 * `.gitleaks.toml`, written from the same rule list as the secretlint preset, so the
 * two scanners cannot drift apart: `node tools/secretlint-rule-reckon/gitleaksToml.js`
 * rewrites it, and a test fails while the committed file differs.
 */

const HEADER = `# gitleaks configuration for Reckon: gitleaks' default rules plus Reckon's own.
# Generated from tools/secretlint-rule-reckon/rules.js by
# \`node tools/secretlint-rule-reckon/gitleaksToml.js\`; do not edit by hand (a test
# fails while this file differs from what the rules produce).
title = "Reckon"

[extend]
useDefault = true
`;

const literal = (regex) => {
  if (regex.includes("'''")) throw new Error(`a pattern cannot hold ''' in TOML: ${regex}`);
  return `'''${regex}'''`;
};

function ruleBlock(rule) {
  const lines = ["", "[[rules]]", `id = "${rule.id}"`, `description = ${JSON.stringify(rule.title)}`, `regex = ${literal(rule.pattern.source)}`];
  if (rule.secretGroup !== undefined) lines.push(`secretGroup = ${rule.secretGroup}`);
  if (rule.minEntropyBitsPerChar > 0) lines.push(`entropy = ${rule.minEntropyBitsPerChar.toFixed(1)}`);
  lines.push(`keywords = [${rule.keywords.map((keyword) => JSON.stringify(keyword)).join(", ")}]`);
  if (rule.placeholder) {
    lines.push(
      "",
      "[[rules.allowlists]]",
      'description = "a secret holding a placeholder word is an example"',
      `regexes = [${literal(`(?i)(?:${rule.placeholder.source})`)}]`,
    );
  }
  return lines.join("\n");
}

export function gitleaksToml() {
  return `${HEADER}${RULES.map(ruleBlock).join("\n")}\n`;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL("../../.gitleaks.toml", import.meta.url), gitleaksToml());
}
