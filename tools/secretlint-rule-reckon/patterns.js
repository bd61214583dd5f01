/**
 * The patterns behind Reckon's secret rules. `.gitleaks.toml` carries the same regular
 * expressions, character for character (a test compares them), so every pattern here
 * is written in the syntax JavaScript and RE2 (gitleaks) share: no lookaround, no
 * backreferences, repetition counts at most 1000. Where a pattern has capture groups,
 * the first non-empty one is the secret, as in gitleaks.
 */

/** PayNow management API keys, as the PayNow docs show them: `pnapi_v1_<base58>`. */
export const PAYNOW_API_KEY = /pnapi_v[0-9]+_[A-Za-z0-9]{24,}/dg;

/**
 * An environment-style assignment of a secret: `NAME_SECRET=value`, `NAME_TOKEN: "value"`.
 * Group 1 is the name, group 2 the value (the secret).
 */
export const SECRET_ASSIGNMENT =
  /\b([A-Z][A-Z0-9_]*_(?:SECRET|SECRETS|TOKEN|TOKENS|API_KEY|PASSWORD))[ \t]*[=:][ \t]*["']?([A-Za-z0-9+/_.,:~=-]{16,})/dg;

/**
 * A Google service-account key file: its type and a private key that holds a DER body
 * (`MI…` after the PEM header, so `-----BEGIN PRIVATE KEY-----\n...` in docs is not one),
 * in either order. Repetition counts stay within RE2's limit of 1000.
 */
export const SERVICE_ACCOUNT_JSON =
  /"type"\s*:\s*"service_account"[\s\S]{0,1000}?"private_key"\s*:\s*"-----BEGIN[A-Z ]*PRIVATE KEY-----(?:\\n|\s)*MI|"private_key"\s*:\s*"-----BEGIN[A-Z ]*PRIVATE KEY-----(?:\\n|\s)*MI[^"]*"[\s\S]{0,1000}?"type"\s*:\s*"service_account"/dg;

/**
 * Stripe secret keys, live and test: `sk_live_` or `sk_test_` and base62 (24 characters
 * for old keys, about 100 for current ones). The key may follow any character that is
 * not a letter or digit, so `STRIPE_sk_live_…` counts but `task_live_…` does not.
 */
export const STRIPE_SECRET_KEY = /(?:^|[^0-9A-Za-z])(sk_(?:live|test)_[0-9A-Za-z]{20,})/dg;

/** Stripe restricted keys, live and test: `rk_live_…`, `rk_test_…`, same alphabet. */
export const STRIPE_RESTRICTED_KEY = /(?:^|[^0-9A-Za-z])(rk_(?:live|test)_[0-9A-Za-z]{20,})/dg;

/**
 * Stripe webhook signing secrets anywhere, not only in an assignment: `whsec_` and
 * base62 (32 characters from the dashboard, 64 hexadecimal from the Stripe CLI).
 */
export const STRIPE_WEBHOOK_SECRET = /whsec_[0-9A-Za-z]{20,}/dg;

/**
 * Reckon's own API tokens, as src/auth/apiTokens.ts makes them: `rk_<role>_` and 32
 * random bytes in base64url (43 characters). The roles are listed, so Stripe's
 * `rk_live_`/`rk_test_` keys stay with their own rule; a test makes a token for every
 * role with the real code and fails if this list misses one.
 */
export const RECKON_API_TOKEN = /(?:^|[^0-9A-Za-z_-])(rk_(?:service|admin)_[0-9A-Za-z_-]{43})/dg;

/**
 * A private or secret JSON Web Key: one object (no braces inside) with a `kty` member
 * and a `d` (RSA, EC, OKP private exponent or scalar) or `k` (symmetric) member holding
 * a base64url literal, in either order, quoted or not, escaped inside a string or not.
 * A public key (`n`/`e`, `x`/`y` only) never matches.
 */
export const JWK_PRIVATE_KEY =
  /\{[^{}]*\\?["']?kty\\?["']?\s*:[^{}]*\\?["']?\b(?:d|k)\\?["']?\s*:\s*\\?["']([A-Za-z0-9_-]{20,})|\{[^{}]*\\?["']?\b(?:d|k)\\?["']?\s*:\s*\\?["']([A-Za-z0-9_-]{20,})[^{}]*\\?["']?kty\\?["']?\s*:/dg;

/** Words that mark a free-form value as an example, never a real secret. */
export const PLACEHOLDER = /example|sample|placeholder|changeme|change_me|dummy|redacted|your[_-]|xxxx|\.\.\.|<|\$\{/i;

/**
 * Words that mark a key of a fixed format as a placeholder. Only words of five letters
 * or more: a random 100-character key contains one by chance about once in 300,000
 * keys, where `xxxx` would be once in 10,000. Runs like `XXXXXXXX` are caught by the
 * entropy floor instead.
 */
export const KEY_PLACEHOLDER = /example|sample|placeholder|changeme|redacted|dummy/i;

/** Shannon entropy in bits per character, computed as gitleaks computes it. */
export function entropyBitsPerChar(value) {
  if (value.length === 0) return 0;
  const counts = new Map();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}
