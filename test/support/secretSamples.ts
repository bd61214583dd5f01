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

type RuleIds = Pick<SecretSample, "ruleId" | "gitleaksId">;
const sample = (className: string, file: string, ids: RuleIds, content: string): SecretSample => ({ className, file, content, ...ids });
const reckon = (id: string): RuleIds => ({ ruleId: `@reckon/secretlint-rule-reckon/${id}`, gitleaksId: id });
const preset = (name: string): RuleIds => ({ ruleId: `@secretlint/secretlint-rule-${name}` });

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
  const assigned = () => `${randomBytes(24).toString("base64url")}${randomInt(10)}7`;
  return [
    sample("Stripe live secret key in code", "src/stripeClient.ts", reckon("stripe-secret-key"),
      `import Stripe from "stripe";\n\nexport const stripe = new Stripe("sk_live_51${base62(97)}");\n`),
    sample("Stripe test secret key", "scripts/seed.ts", reckon("stripe-secret-key"), `const stripe = new Stripe('sk_test_51${base62(97)}');\n`),
    sample("Stripe legacy (24-character) live secret key", "config/legacy.yaml", reckon("stripe-secret-key"),
      `stripe:\n  key: sk_live_${base62(24)}\n`),
    sample("Stripe live restricted key", "scripts/refunds.ts", reckon("stripe-restricted-key"),
      `const client = new Stripe(\`rk_live_51${base62(97)}\`);\n`),
    sample("Stripe test restricted key", "config/restricted.json", reckon("stripe-restricted-key"), `{ "stripeKey": "rk_test_${base62(24)}" }\n`),
    sample("Stripe webhook signing secret outside an assignment", "src/webhookSecret.ts", reckon("stripe-webhook-secret"),
      `export const secret = "whsec_${base62(32)}";\n`),
    sample("Stripe CLI webhook signing secret", "scripts/listen.sh", reckon("stripe-webhook-secret"),
      `stripe listen --forward-to localhost:3000 # whsec_${pick(HEX, 64)}\n`),
    ...tokens.map(({ role, token }) =>
      sample(`Reckon ${role} API token pasted into a script`, `scripts/call-as-${role}.sh`, reckon("reckon-api-token"),
        `curl -H "Authorization: Bearer ${token}" http://127.0.0.1:3000/api/wallets/u1\n`),
    ),
    sample("RSA private JWK (JSON)", "keys/oidc-signing.jwk.json", reckon("jwk-private-key"), `${JSON.stringify(privateJwk("rsa"), null, 2)}\n`),
    sample("EC private JWK in code", "test/issuerKey.ts", reckon("jwk-private-key"),
      `export const key = { kty: "EC", crv: "P-256", d: "${String(privateJwk("ec").d)}" };\n`),
    sample("symmetric JWK", "keys/session.jwk", reckon("jwk-private-key"), `{"kty":"oct","k":"${randomBytes(32).toString("base64url")}","alg":"HS256"}\n`),
    sample("Google service-account JSON outside a .json file", "deploy/gcp-secret.yaml", reckon("google-service-account-json"),
      `apiVersion: v1\nkind: Secret\nstringData:\n  key.json: |\n${indent(JSON.stringify(serviceAccount(), null, 2))}\n`),
    sample("PayNow API key", "scripts/paynow.ts", reckon("paynow-api-key"), `const key = "pnapi_v1_${base62(45)}";\n`),
    sample("NAME_SECRET=value assignment", "deploy.env", reckon("reckon-secret-assignment"), `PAYNOW_WEBHOOK_SECRET=${assigned()}\n`),
    sample("NAME_TOKEN: value assignment", "values.yaml", reckon("reckon-secret-assignment"), `RECKON_ADMIN_TOKEN: "${assigned()}"\n`),
  ];
}

/** The classes secretlint's recommended preset already catches. */
export function presetSamples(): SecretSample[] {
  const awsSecret = `${pick(`${BASE62}/+`, 39)}${base62(1)}`;
  const digits = (length: number) => pick("0123456789", length);
  return [
    sample("PEM private key", "keys/server.key", preset("privatekey"), rsaPrivateKeyPem()),
    sample("database URL with a password", ".env.production", preset("database-connection-string"),
      `DATABASE_URL=postgres://reckon:${pick(CONSONANTS, 24)}@db.prod.internal:5432/reckon\n`),
    sample("AWS secret access key", "deploy/aws.env", preset("aws"), `AWS_SECRET_ACCESS_KEY=${awsSecret}\n`),
    sample("GitHub token", "scripts/release.sh", preset("github"), `export GH="ghp_${base62(36)}"\n`),
    sample("Slack bot token", "ops/slack.ts", preset("slack"), `const token = "xoxb-${digits(11)}-${digits(13)}-${base62(24)}";\n`),
    sample("Slack incoming webhook", "ops/alerts.yaml", preset("slack"),
      `url: https://hooks.slack.com/services/T${base62(8)}/B${base62(10)}/${base62(24)}\n`),
    sample("npm access token", ".npmrc", preset("npm"), `//registry.npmjs.org/:_authToken=npm_${base62(36)}\n`),
    sample("password in an https URL", "scripts/mirror.sh", preset("basicauth"),
      `git push https://deploy:${pick(CONSONANTS, 20)}@git.corp-hosting.net/reckon.git\n`),
    sample("SendGrid API key", "ops/mail.ts", preset("sendgrid"), `const key = "SG.${base62(22)}.${base62(43)}";\n`),
    sample("Shopify access token", "ops/shop.ts", preset("shopify"), `const token = "shpat_${pick(HEX, 32)}";\n`),
    sample("OpenAI API key", "ops/openai.ts", preset("openai"), `const key = "sk-proj-${base62(74)}T3BlbkFJ${base62(74)}";\n`),
    sample("Anthropic API key", "ops/anthropic.ts", preset("anthropic"), `const key = "sk-ant-api03-${base62(93)}AA";\n`),
    sample("Linear API key", "ops/linear.ts", preset("linear"), `const key = "lin_api_${base62(40)}";\n`),
    sample("1Password service-account token", "ops/op.env", preset("1password"), `OP_SERVICE_ACCOUNT=${onePasswordToken()}\n`),
    sample("Google service-account key file", "gcp/service-account.json", preset("gcp"), `${JSON.stringify(serviceAccount(), null, 2)}\n`),
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
    'const env = { PAYNOW_WEBHOOK_SECRETS: secrets.paynow.join(","), STRIPE_WEBHOOK_SECRET: secrets.stripe };',
    "",
  ].join("\n");
}
