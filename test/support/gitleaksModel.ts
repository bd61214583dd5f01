/**
 * An independent model of how gitleaks reads Reckon's rules in .gitleaks.toml and
 * applies them (gitleaks 8, detect/detect.go): a rule runs only on text holding one of
 * its keywords; the secret is capture group `secretGroup`, else the first non-empty
 * group, else the whole match; a secret whose Shannon entropy is not above `entropy`,
 * or that an allowlist regex matches, is dropped. It reads only the subset of TOML the
 * file uses (one `key = value` per line).
 */
export interface GitleaksRule {
  id: string;
  regex: string;
  secretGroup?: number;
  entropy?: number;
  keywords: string[];
  allowlist: RegExp[];
}

const field = (block: string, name: string): string | undefined => new RegExp(`^${name} = (.*)$`, "m").exec(block)?.[1];
const literals = (value: string): string[] => [...value.matchAll(/'''(.*?)'''/g)].map((match) => match[1]!);

/** RE2's leading `(?i)` becomes JavaScript's `i` flag. */
function toRegExp(source: string, flags: string): RegExp {
  return source.startsWith("(?i)") ? new RegExp(source.slice(4), `${flags}i`) : new RegExp(source, flags);
}

export function parseGitleaksRules(toml: string): GitleaksRule[] {
  return toml
    .split(/^\[\[rules\]\]$/m)
    .slice(1)
    .map((block) => {
      const [rule, ...allowlists] = block.split(/^\[\[rules\.allowlists\]\]$/m) as [string, ...string[]];
      const number = (name: string) => (field(rule, name) === undefined ? undefined : Number(field(rule, name)));
      return {
        id: JSON.parse(field(rule, "id")!) as string,
        regex: literals(field(rule, "regex")!)[0]!,
        secretGroup: number("secretGroup"),
        entropy: number("entropy"),
        keywords: JSON.parse(field(rule, "keywords") ?? "[]") as string[],
        allowlist: allowlists.flatMap((allowlist) => literals(field(allowlist, "regexes") ?? "").map((source) => toRegExp(source, ""))),
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

/** The secrets gitleaks would report for `rule` in `content`. */
export function gitleaksSecrets(rule: GitleaksRule, content: string): string[] {
  const lower = content.toLowerCase();
  if (rule.keywords.length > 0 && !rule.keywords.some((keyword) => lower.includes(keyword.toLowerCase()))) return [];
  const secrets: string[] = [];
  for (const match of content.matchAll(toRegExp(rule.regex, "g"))) {
    const secret = rule.secretGroup ? match[rule.secretGroup]! : (match.slice(1).find((group) => group) ?? match[0]);
    if (rule.entropy !== undefined && shannonEntropy(secret) <= rule.entropy) continue;
    if (rule.allowlist.some((allowed) => allowed.test(secret))) continue;
    secrets.push(secret);
  }
  return secrets;
}
