/**
 * The patterns behind Reckon's secret rules. `.gitleaks.toml` carries the same
 * regular expressions (RE2 syntax, which these are written in) and a test checks
 * that both scanners catch the same samples.
 */

/** PayNow management API keys, as the PayNow docs show them: `pnapi_v1_<base58>`. */
export const PAYNOW_API_KEY = /pnapi_v[0-9]+_[A-Za-z0-9]{24,}/g;

/**
 * An environment-style assignment of a secret: `NAME_SECRET=value`, `NAME_TOKEN: "value"`.
 * Group 1 is the name, group 2 the value; the value is judged by `looksReal`.
 */
export const SECRET_ASSIGNMENT =
  /\b([A-Z][A-Z0-9_]*_(?:SECRET|SECRETS|TOKEN|TOKENS|API_KEY|PASSWORD))[ \t]*[=:][ \t]*["']?([A-Za-z0-9+/_.,:~=-]{16,})/g;

/**
 * A Google service-account key file: both its type and its private key, in either
 * order. Repetition counts stay within RE2's limit of 1000 so gitleaks accepts it.
 */
export const SERVICE_ACCOUNT_JSON =
  /"type"\s*:\s*"service_account"[\s\S]{0,1000}?"private_key"\s*:\s*"-----BEGIN|"private_key"\s*:\s*"-----BEGIN[^"]*"[\s\S]{0,1000}?"type"\s*:\s*"service_account"/g;

/** Words that mark a value as an example, never a real secret. */
export const PLACEHOLDER = /example|sample|placeholder|changeme|change_me|dummy|redacted|your[_-]|xxxx|\.\.\.|<|\$\{/i;

/** Shannon entropy in bits per character. */
export function entropyBitsPerChar(value) {
  const counts = new Map();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** The minimum entropy a value needs to look like a generated secret (gitleaks: `entropy`). */
export const MIN_ENTROPY_BITS_PER_CHAR = 3.5;

/**
 * A value looks real when it is long, varied (letters and digits), and not a
 * placeholder: `whsec_…` and `randomBytes(24).toString("base64url")` both do;
 * `changeme`, `${SECRET}` and `xxxxxxxxxxxxxxxx` do not.
 */
export function looksReal(value) {
  if (value.length < 16 || PLACEHOLDER.test(value)) return false;
  if (!/[A-Za-z]/.test(value) || !/[0-9]/.test(value)) return false;
  return entropyBitsPerChar(value) >= MIN_ENTROPY_BITS_PER_CHAR;
}
