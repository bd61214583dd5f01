import { generateKeyPairSync, randomBytes, randomInt } from "node:crypto";
import { createApiToken } from "../../src/auth/apiTokens.js";
import { TOKEN_ROLES } from "../../src/storage/schema.js";
import { createTestDatabase } from "./testDatabase.js";

/**
 * One sample of every class of secret the scan must catch, built at test time from
 * random bytes, fresh key pairs and Reckon's own token code, so no secret-shaped string
 * is ever committed. Each names its class, the file it is planted in, and the rule id
 * (`ruleId` for secretlint, `gitleaksId` for Reckon's rules in .gitleaks.toml).
 */
export interface SecretSample {
  className: string;
  file: string;
  content: string;
  ruleId: string;
  gitleaksId?: string;
}

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** No vowels, so a password never spells the words the preset treats as placeholders. */
const CONSONANTS = "BCDFGHJKLMNPQRSTVWXZbcdfghjklmnpqrstvwxz0123456789";
const HEX = "0123456789abcdef";

export const pick = (alphabet: string, length: number): string =>
  Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");
export const base62 = (length: number): string => pick(BASE62, length);

const reckon = (id: string) => ({ ruleId: `@reckon/secretlint-rule-reckon/${id}`, gitleaksId: id });
const preset = (name: string) => ({ ruleId: `@secretlint/secretlint-rule-${name}` });

function rsaPrivateKeyPem(): string {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

function serviceAccount(): Record<string, string> {
  return {
    type: "service_account",
    project_id: "reckon-scan-test",
    private_key_id: randomBytes(20).toString("hex"),
    private_key: rsaPrivateKeyPem(),
    client_email: "scan-test@reckon-scan-test.iam.gserviceaccount.com",
    client_id: pick("0123456789", 21),
  };
}

function privateJwk(type: "rsa" | "ec"): Record<string, unknown> {
  const { privateKey } =
    type === "rsa" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { ...privateKey.export({ format: "jwk" }), kid: "signing-1", alg: type === "rsa" ? "RS256" : "ES256" };
}

/** A 1Password service-account token: `ops_` and base64 of a JSON object that ends in `fQ==`. */
function onePasswordToken(): string {
  const body = { email: `${pick(HEX, 13)}@1passwordserviceaccounts.com`, secretKey: `A3-${base62(30)}`, srpX: pick(HEX, 64), pad: "" };
  while (JSON.stringify(body).length % 3 !== 1) body.pad += "x";
  return `ops_${Buffer.from(JSON.stringify(body)).toString("base64")}`;
}

/** Reckon API tokens, one per role, made by the same function `reckon admin token create` calls. */
async function reckonTokens(): Promise<{ role: string; token: string }[]> {
  const database = await createTestDatabase("sqlite");
  try {
    const now = new Date();
    return await Promise.all(
      TOKEN_ROLES.map(async (role) => ({ role, token: (await createApiToken(database.db.kysely, { role, name: `scan-${role}`, now })).token })),
    );
  } finally {
    await database.drop();
  }
}

/** The classes Reckon's own rules must catch. */
export async function reckonSamples(): Promise<SecretSample[]> {
  const tokens = await reckonTokens();
  const indent = (text: string) => text.replace(/^/gm, "    ");
  return [
    { className: "Stripe live secret key in code", file: "src/stripeClient.ts", content: `import Stripe from "stripe";\n\nexport const stripe = new Stripe("sk_live_51${base62(97)}");\n`, ...reckon("stripe-secret-key") },
    { className: "Stripe test secret key", file: "scripts/seed.ts", content: `const stripe = new Stripe('sk_test_51${base62(97)}');\n`, ...reckon("stripe-secret-key") },
    { className: "Stripe legacy (24-character) live secret key", file: "config/legacy.yaml", content: `stripe:\n  key: sk_live_${base62(24)}\n`, ...reckon("stripe-secret-key") },
    { className: "Stripe live restricted key", file: "scripts/refunds.ts", content: `const client = new Stripe(\`rk_live_51${base62(97)}\`);\n`, ...reckon("stripe-restricted-key") },
    { className: "Stripe test restricted key", file: "config/restricted.json", content: `{ "stripeKey": "rk_test_${base62(24)}" }\n`, ...reckon("stripe-restricted-key") },
    { className: "Stripe webhook signing secret outside an assignment", file: "src/webhookSecret.ts", content: `export const secret = "whsec_${base62(32)}";\n`, ...reckon("stripe-webhook-secret") },
    { className: "Stripe CLI webhook signing secret", file: "scripts/listen.sh", content: `stripe listen --forward-to localhost:3000 # whsec_${pick(HEX, 64)}\n`, ...reckon("stripe-webhook-secret") },
    ...tokens.map(({ role, token }) => ({
      className: `Reckon ${role} API token pasted into a script`,
      file: `scripts/call-as-${role}.sh`,
      content: `curl -H "Authorization: Bearer ${token}" http://127.0.0.1:3000/api/wallets/u1\n`,
      ...reckon("reckon-api-token"),
    })),
    { className: "RSA private JWK (JSON)", file: "keys/oidc-signing.jwk.json", content: `${JSON.stringify(privateJwk("rsa"), null, 2)}\n`, ...reckon("jwk-private-key") },
    { className: "EC private JWK in code", file: "test/issuerKey.ts", content: `export const key = { kty: "EC", crv: "P-256", d: "${privateJwk("ec").d}" };\n`, ...reckon("jwk-private-key") },
    { className: "symmetric JWK", file: "keys/session.jwk", content: `{"kty":"oct","k":"${randomBytes(32).toString("base64url")}","alg":"HS256"}\n`, ...reckon("jwk-private-key") },
    {
      className: "Google service-account JSON outside a .json file",
      file: "deploy/gcp-secret.yaml",
      content: `apiVersion: v1\nkind: Secret\nstringData:\n  key.json: |\n${indent(JSON.stringify(serviceAccount(), null, 2))}\n`,
      ...reckon("google-service-account-json"),
    },
    { className: "PayNow API key", file: "scripts/paynow.ts", content: `const key = "pnapi_v1_${base62(45)}";\n`, ...reckon("paynow-api-key") },
    { className: "NAME_SECRET=value assignment", file: "deploy.env", content: `PAYNOW_WEBHOOK_SECRET=${randomBytes(24).toString("base64url")}${randomInt(10)}7\n`, ...reckon("reckon-secret-assignment") },
    { className: "NAME_TOKEN: value assignment", file: "values.yaml", content: `RECKON_ADMIN_TOKEN: "${randomBytes(24).toString("base64url")}${randomInt(10)}7"\n`, ...reckon("reckon-secret-assignment") },
  ];
}

/** The classes secretlint's recommended preset already catches. */
export function presetSamples(): SecretSample[] {
  const awsSecret = `${pick(`${BASE62}/+`, 39)}${base62(1)}`;
  return [
    { className: "PEM private key", file: "keys/server.key", content: rsaPrivateKeyPem(), ...preset("privatekey") },
    { className: "database URL with a password", file: ".env.production", content: `DATABASE_URL=postgres://reckon:${pick(CONSONANTS, 24)}@db.prod.internal:5432/reckon\n`, ...preset("database-connection-string") },
    { className: "AWS secret access key", file: "deploy/aws.env", content: `AWS_SECRET_ACCESS_KEY=${awsSecret}\n`, ...preset("aws") },
    { className: "GitHub token", file: "scripts/release.sh", content: `export GH="ghp_${base62(36)}"\n`, ...preset("github") },
    { className: "Slack bot token", file: "ops/slack.ts", content: `const token = "xoxb-${pick("0123456789", 11)}-${pick("0123456789", 13)}-${base62(24)}";\n`, ...preset("slack") },
    { className: "Slack incoming webhook", file: "ops/alerts.yaml", content: `url: https://hooks.slack.com/services/T${base62(8)}/B${base62(10)}/${base62(24)}\n`, ...preset("slack") },
    { className: "npm access token", file: ".npmrc", content: `//registry.npmjs.org/:_authToken=npm_${base62(36)}\n`, ...preset("npm") },
    { className: "password in an https URL", file: "scripts/mirror.sh", content: `git push https://deploy:${pick(CONSONANTS, 20)}@git.corp-hosting.net/reckon.git\n`, ...preset("basicauth") },
    { className: "SendGrid API key", file: "ops/mail.ts", content: `const key = "SG.${base62(22)}.${base62(43)}";\n`, ...preset("sendgrid") },
    { className: "Shopify access token", file: "ops/shop.ts", content: `const token = "shpat_${pick(HEX, 32)}";\n`, ...preset("shopify") },
    { className: "OpenAI API key", file: "ops/openai.ts", content: `const key = "sk-proj-${base62(74)}T3BlbkFJ${base62(74)}";\n`, ...preset("openai") },
    { className: "Anthropic API key", file: "ops/anthropic.ts", content: `const key = "sk-ant-api03-${base62(93)}AA";\n`, ...preset("anthropic") },
    { className: "Linear API key", file: "ops/linear.ts", content: `const key = "lin_api_${base62(40)}";\n`, ...preset("linear") },
    { className: "1Password service-account token", file: "ops/op.env", content: `OP_SERVICE_ACCOUNT=${onePasswordToken()}\n`, ...preset("1password") },
    { className: "Google service-account key file", file: "gcp/service-account.json", content: `${JSON.stringify(serviceAccount(), null, 2)}\n`, ...preset("gcp") },
  ];
}

/** What the docs and tests write in place of secrets: none of it may be reported. */
export function placeholders(): string {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return [
    "STRIPE_API_KEY=sk_live_...",
    "STRIPE_API_KEY=sk_live_…  # or sk_test_… in the test environment",
    "STRIPE_WEBHOOK_SECRET=whsec_example",
    "STRIPE_WEBHOOK_SECRET=whsec_…",
    "STRIPE_API_KEY=${STRIPE_SECRET}",
    'const stripe = new Stripe(process.env.STRIPE_SECRET ?? "");',
    'const stripe = new Stripe("sk_test_offline_signing_only");',
    "restricted: rk_live_...",
    "STRIPE_API_KEY=sk_test_xxxxxxxxxxxxxxxxxxxxxxxx",
    "STRIPE_API_KEY=sk_live_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    'new Stripe("sk_test_ExampleKeyDoNotUse1234567890")',
    'new Stripe("sk_test_dummyKeyForUnitTests1234567")',
    'verify(header({ secret: "whsec_not_ours" }))',
    'bearer("rk_admin_thisIsNotAnIssuedTokenAtAll0000000000000")',
    `curl -H "Authorization: Bearer rk_service_…" -H "Authorization: Bearer rk_admin_${"A".repeat(43)}"`,
    `{ "kty": "RSA", "n": "...", "e": "AQAB", "d": "..." }`,
    `${JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid: "k1", use: "sig" }] })}`,
    `{ "type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\\n" }`,
    "PAYNOW_API_KEY=pnapi_v1_...",
    "PAYNOW_WEBHOOK_SECRETS=secret1,secret2",
    "RECKON_ADMIN_TOKEN=changeme-before-you-deploy-1",
    "OTHER_SECRET=xxxxxxxxxxxxxxxxxxxxxxxx",
    "SOME_API_KEY=<your-api-key-goes-here-123>",
    "STRIPE_WEBHOOK_SECRET_FILE=/run/secrets/stripe_webhook_secret",
    "",
  ].join("\n");
}
