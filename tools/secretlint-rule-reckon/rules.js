import {
  JWK_PRIVATE_KEY,
  KEY_PLACEHOLDER,
  PAYNOW_API_KEY,
  PLACEHOLDER,
  RECKON_API_TOKEN,
  SECRET_ASSIGNMENT,
  SERVICE_ACCOUNT_JSON,
  STRIPE_RESTRICTED_KEY,
  STRIPE_SECRET_KEY,
  STRIPE_WEBHOOK_SECRET,
} from "./patterns.js";

/**
 * The one list of Reckon's secret rules. Each becomes a secretlint rule named
 * `@reckon/secretlint-rule-reckon/<id>` and a gitleaks rule named `<id>` in
 * `.gitleaks.toml`, with the same fields:
 * - `pattern`: the regular expression; the secret is capture group `secretGroup` when
 *   given, else the first non-empty group, else the whole match (gitleaks' order);
 * - `minEntropyBitsPerChar`: a secret must have more entropy than this (gitleaks `entropy`);
 * - `placeholder`: a secret containing this is an example (gitleaks allowlist on the secret);
 * - `lettersAndDigits`: the secret must hold both (gitleaks: allowlist regexes for lacking either);
 * - `keywords`: gitleaks only runs a rule on text containing one of these.
 */
export const RULES = [
  {
    id: "stripe-secret-key",
    title: "Stripe secret key (sk_live_, sk_test_)",
    message: "found a Stripe secret key (sk_live_…/sk_test_…); roll it in the Stripe dashboard now",
    pattern: STRIPE_SECRET_KEY,
    minEntropyBitsPerChar: 3,
    placeholder: KEY_PLACEHOLDER,
    keywords: ["sk_live_", "sk_test_"],
  },
  {
    id: "stripe-restricted-key",
    title: "Stripe restricted key (rk_live_, rk_test_)",
    message: "found a Stripe restricted key (rk_live_…/rk_test_…); roll it in the Stripe dashboard now",
    pattern: STRIPE_RESTRICTED_KEY,
    minEntropyBitsPerChar: 3,
    placeholder: KEY_PLACEHOLDER,
    keywords: ["rk_live_", "rk_test_"],
  },
  {
    id: "stripe-webhook-secret",
    title: "Stripe webhook signing secret (whsec_)",
    message: "found a Stripe webhook signing secret (whsec_…); roll it on the webhook endpoint",
    pattern: STRIPE_WEBHOOK_SECRET,
    minEntropyBitsPerChar: 3,
    placeholder: KEY_PLACEHOLDER,
    keywords: ["whsec_"],
  },
  {
    id: "reckon-api-token",
    title: "Reckon API token (rk_service_, rk_admin_)",
    message: "found a Reckon API token (rk_service_…/rk_admin_…); revoke it with `reckon admin token revoke`",
    pattern: RECKON_API_TOKEN,
    minEntropyBitsPerChar: 3.5,
    placeholder: KEY_PLACEHOLDER,
    keywords: ["rk_service_", "rk_admin_"],
  },
  {
    id: "jwk-private-key",
    title: "Private or secret JSON Web Key (kty with d or k)",
    message: "found a private JSON Web Key (kty with d or k); replace the key pair and publish the new public key",
    pattern: JWK_PRIVATE_KEY,
    minEntropyBitsPerChar: 3,
    placeholder: KEY_PLACEHOLDER,
    keywords: ["kty"],
  },
  {
    id: "google-service-account-json",
    title: "Google service-account key file (type service_account with a private_key)",
    message: "found a Google service-account key (type service_account with a private_key); delete the key in IAM",
    pattern: SERVICE_ACCOUNT_JSON,
    minEntropyBitsPerChar: 0,
    placeholder: null,
    keywords: ["service_account"],
  },
  {
    id: "paynow-api-key",
    title: "PayNow management API key (pnapi_v1_)",
    message: "found a PayNow API key (pnapi_v…); revoke it in the PayNow dashboard",
    pattern: PAYNOW_API_KEY,
    minEntropyBitsPerChar: 0,
    placeholder: null,
    keywords: ["pnapi_v"],
  },
  {
    id: "reckon-secret-assignment",
    title: "A *_SECRET, *_TOKEN, *_API_KEY or *_PASSWORD assigned a real-looking value",
    message:
      "found a secret-named variable (*_SECRET, *_TOKEN, *_API_KEY, *_PASSWORD) assigned a real-looking value; mount it as a file instead",
    pattern: SECRET_ASSIGNMENT,
    secretGroup: 2,
    minEntropyBitsPerChar: 3.5,
    placeholder: PLACEHOLDER,
    lettersAndDigits: true,
    keywords: ["_secret", "_token", "_api_key", "_password"],
  },
];
