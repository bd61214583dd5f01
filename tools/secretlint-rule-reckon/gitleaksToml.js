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
  const allowed = [];
  if (rule.placeholder) allowed.push(`(?i)(?:${rule.placeholder.source})`);
  // gitleaks has no "letters and digits" test; a secret lacking either is allowed instead.
  if (rule.lettersAndDigits) allowed.push("^[^0-9]*$", "^[^A-Za-z]*$");
  if (allowed.length > 0) {
    lines.push(
      "",
      "[[rules.allowlists]]",
      'description = "a placeholder word, or no letters or no digits when the rule needs both: an example, not a secret"',
      `regexes = [${allowed.map(literal).join(", ")}]`,
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
