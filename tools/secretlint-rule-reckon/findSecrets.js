import { entropyBitsPerChar } from "./patterns.js";

/**
 * Where `rule` finds a secret in `content`: the range of each secret that passes the
 * rule's judgement (entropy above the floor, no placeholder word, letters and digits
 * when asked). The same steps gitleaks takes with the same fields, in the same order.
 */
export function findSecrets(rule, content) {
  const ranges = [];
  for (const match of content.matchAll(rule.pattern)) {
    const group = secretGroupOf(rule, match);
    const secret = match[group];
    if (!looksReal(rule, secret)) continue;
    ranges.push(match.indices[group]);
  }
  return ranges;
}

function secretGroupOf(rule, match) {
  if (rule.secretGroup !== undefined) return rule.secretGroup;
  for (let group = 1; group < match.length; group += 1) {
    if (match[group]) return group;
  }
  return 0;
}

function looksReal(rule, secret) {
  if (entropyBitsPerChar(secret) <= rule.minEntropyBitsPerChar) return false;
  if (rule.placeholder && rule.placeholder.test(secret)) return false;
  if (rule.lettersAndDigits && !(/[A-Za-z]/.test(secret) && /[0-9]/.test(secret))) return false;
  return true;
}
