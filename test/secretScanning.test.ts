import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Secret scanning blocks: each custom rule catches a sample built here at test time
 * (never committed), placeholders pass, the repository itself scans clean, and
 * .gitleaks.toml carries the same patterns.
 */

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "..");
const SECRETLINT = join(ROOT, "node_modules", ".bin", "secretlint");
const RULE = "@reckon/secretlint-rule-reckon";

const alphanumeric = (length: number) => {
  let out = "";
  while (out.length < length) out += randomBytes(64).toString("base64").replace(/[^A-Za-z0-9]/g, "");
  return out.slice(0, length);
};
/** Generated like a real secret; the trailing digits make "letters and digits" certain. */
const generatedSecret = () => `${randomBytes(24).toString("base64url")}${randomBytes(1)[0]! % 10}7`;

function serviceAccountJson(): string {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return JSON.stringify(
    {
      type: "service_account",
      project_id: "reckon-scan-test",
      private_key_id: randomBytes(20).toString("hex"),
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      client_email: "scan-test@reckon-scan-test.iam.gserviceaccount.com",
      client_id: alphanumeric(21).replace(/\D/g, "1"),
    },
    null,
    2,
  );
}

/** Custom-rule samples, each with the messageId and gitleaks rule id that must catch it. */
function samples(): { file: string; content: string; messageId: string; gitleaksId: string }[] {
  return [
    { file: "paynow.ts", content: `const key = "pnapi_v1_${alphanumeric(45)}";\n`, messageId: "PAYNOW_API_KEY", gitleaksId: "paynow-api-key" },
    { file: "deploy.env", content: `PAYNOW_WEBHOOK_SECRET=${generatedSecret()}\n`, messageId: "SECRET_ASSIGNMENT", gitleaksId: "reckon-secret-assignment" },
    { file: "values.yaml", content: `RECKON_ADMIN_TOKEN: "${generatedSecret()}"\n`, messageId: "SECRET_ASSIGNMENT", gitleaksId: "reckon-secret-assignment" },
    { file: "sa-key.json", content: serviceAccountJson(), messageId: "SERVICE_ACCOUNT_JSON", gitleaksId: "google-service-account-json" },
  ];
}

interface LintResult {
  filePath: string;
  messages: { ruleId: string; messageId: string }[];
}

/** Runs the repository's scan in `cwd` with the repository's configuration. */
async function scan(cwd: string): Promise<{ exitCode: number; results: LintResult[] }> {
  try {
    const { stdout } = await run(SECRETLINT, ["**/*", "--format", "json", "--secretlintrc", join(ROOT, ".secretlintrc.json")], { cwd });
    return { exitCode: 0, results: JSON.parse(stdout || "[]") };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { exitCode: failed.code ?? -1, results: JSON.parse(failed.stdout || "[]") };
  }
}

describe("secret scanning", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "reckon-scan-"));
    copyFileSync(join(ROOT, ".secretlintignore"), join(dir, ".secretlintignore"));
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("each custom rule catches its sample, and the scan exits non-zero", async () => {
    const cases = samples();
    for (const sample of cases) writeFileSync(join(dir, sample.file), sample.content);
    try {
      const { exitCode, results } = await scan(dir);
      expect(exitCode).toBe(1);
      for (const sample of cases) {
        const found = results.find((result) => result.filePath.endsWith(sample.file));
        const ours = found?.messages.filter((message) => message.ruleId === RULE).map((message) => message.messageId);
        expect(ours, sample.file).toContain(sample.messageId);
      }
    } finally {
      for (const sample of cases) rmSync(join(dir, sample.file));
    }
  });

  it("placeholders, interpolations and short values are not findings", async () => {
    const file = join(dir, "example.env");
    writeFileSync(
      file,
      [
        "PAYNOW_WEBHOOK_SECRETS=secret1,secret2",
        "STRIPE_WEBHOOK_SECRET=${STRIPE_WEBHOOK_SECRET}",
        "RECKON_ADMIN_TOKEN=changeme-before-you-deploy-1",
        "OTHER_SECRET=xxxxxxxxxxxxxxxxxxxxxxxx",
        "SOME_API_KEY=<your-api-key-goes-here-123>",
        "STRIPE_WEBHOOK_SECRET_FILE=/run/secrets/stripe_webhook_secret",
      ].join("\n"),
    );
    try {
      const { exitCode, results } = await scan(dir);
      expect(results.flatMap((result) => result.messages)).toEqual([]);
      expect(exitCode).toBe(0);
    } finally {
      rmSync(file);
    }
  });

  it("the repository scans clean with `npm run scan:secrets`", async () => {
    const outcome = await run("npm", ["run", "--silent", "scan:secrets"], { cwd: ROOT }).then(
      ({ stdout }) => ({ exitCode: 0, output: stdout }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ exitCode: error.code, output: `${error.stdout}${error.stderr}` }),
    );
    expect(outcome).toEqual({ exitCode: 0, output: "" });
  });

  it(".gitleaks.toml carries the same patterns: each of its custom rules catches the same sample", () => {
    const toml = readFileSync(join(ROOT, ".gitleaks.toml"), "utf8");
    const rules = new Map<string, RegExp>();
    for (const block of toml.split("[[rules]]").slice(1)) {
      const id = /^id = "([^"]+)"/m.exec(block)?.[1];
      const regex = /^regex = '''(.*)'''$/m.exec(block)?.[1];
      if (id && regex) rules.set(id, new RegExp(regex));
    }
    expect([...rules.keys()].sort()).toEqual(["google-service-account-json", "paynow-api-key", "reckon-secret-assignment"]);
    for (const sample of samples()) expect(rules.get(sample.gitleaksId)!.test(sample.content), sample.file).toBe(true);
  });
});
