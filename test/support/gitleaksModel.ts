import { RE2JS } from "re2js";

/**
 * An independent model of how gitleaks reads Reckon's rules in .gitleaks.toml and
 * applies them (gitleaks 8, detect/detect.go), with RE2 itself (re2js) as the regular
 * expression engine, as in gitleaks: a rule runs only on text holding one of its
 * keywords; the secret is capture group `secretGroup`, else the first non-empty group,
 * else the whole match; a secret whose Shannon entropy is not above `entropy`, or that
 * an allowlist regex matches, is dropped. It reads only the subset of TOML the file
 * uses (one `key = value` per line); a regex RE2 rejects throws, as gitleaks would.
 */
export interface GitleaksRule {
  id: string;
  regex: RE2JS;
  secretGroup?: number;
  entropy?: number;
  keywords: string[];
  allowlist: RE2JS[];
}

const field = (block: string, name: string): string | undefined => new RegExp(`^${name} = (.*)$`, "m").exec(block)?.[1];
const literals = (value: string): string[] => [...value.matchAll(/'''(.*?)'''/g)].map((match) => match[1]!);

export function parseGitleaksRules(toml: string): GitleaksRule[] {
  return toml
    .split(/^\[\[rules\]\]$/m)
    .slice(1)
    .map((block) => {
      const [rule, ...allowlists] = block.split(/^\[\[rules\.allowlists\]\]$/m) as [string, ...string[]];
      const number = (name: string) => (field(rule, name) === undefined ? undefined : Number(field(rule, name)));
      return {
        id: JSON.parse(field(rule, "id")!) as string,
        regex: RE2JS.compile(literals(field(rule, "regex")!)[0]!),
        secretGroup: number("secretGroup"),
        entropy: number("entropy"),
        keywords: JSON.parse(field(rule, "keywords") ?? "[]") as string[],
        allowlist: allowlists.flatMap((allowlist) => literals(field(allowlist, "regexes") ?? "").map((source) => RE2JS.compile(source))),
      };
    });
}

function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) entropy -= (count / text.length) * Math.log2(count / text.length);
  return entropy;
}

function secretOf(rule: GitleaksRule, matcher: ReturnType<RE2JS["matcher"]>): string {
  if (rule.secretGroup) return matcher.group(rule.secretGroup) ?? "";
  for (let group = 1; group <= matcher.groupCount(); group += 1) {
    const value = matcher.group(group);
    if (value) return value;
  }
  return matcher.group(0) ?? "";
}

/** The secrets gitleaks would report for `rule` in `content`. */
export function gitleaksSecrets(rule: GitleaksRule, content: string): string[] {
  const lower = content.toLowerCase();
  if (rule.keywords.length > 0 && !rule.keywords.some((keyword) => lower.includes(keyword.toLowerCase()))) return [];
  const secrets: string[] = [];
  const matcher = rule.regex.matcher(content);
  while (matcher.find()) {
    const secret = secretOf(rule, matcher);
    if (rule.entropy !== undefined && shannonEntropy(secret) <= rule.entropy) continue;
    if (rule.allowlist.some((allowed) => allowed.matcher(secret).find())) continue;
    secrets.push(secret);
  }
  return secrets;
}
