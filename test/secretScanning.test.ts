import { execFile } from "node:child_process";
import { randomInt } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findSecrets } from "../tools/secretlint-rule-reckon/findSecrets.js";
import { gitleaksToml } from "../tools/secretlint-rule-reckon/gitleaksToml.js";
import { RULES } from "../tools/secretlint-rule-reckon/rules.js";
import { parseGitleaksRules, gitleaksSecrets } from "./support/gitleaksModel.js";
import { base62, placeholders, presetSamples, reckonSamples, type SecretSample } from "./support/secretSamples.js";

/**
 * Secret scanning blocks every class of secret a Reckon deployment holds: the corpus
 * (test/support/secretSamples.ts, generated at run time, never committed) is planted in
 * a scratch git repository and scanned by the command CI runs; placeholders pass; the
 * pre-commit hook refuses a commit that stages a secret; .gitleaks.toml carries the same
 * rules; and the repository itself scans clean.
 */

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "..");

interface Outcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Child processes see no outer git state and no user or system git configuration. */
function isolatedEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("GIT_")));
  return {
    ...env,
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "Scan Test",
    GIT_AUTHOR_EMAIL: "scan@test.invalid",
    GIT_COMMITTER_NAME: "Scan Test",
    GIT_COMMITTER_EMAIL: "scan@test.invalid",
    npm_config_update_notifier: "false",
  };
}

async function exec(cwd: string, command: string, args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, env: isolatedEnv(), maxBuffer: 64 * 1024 * 1024 });
    return { exitCode: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { exitCode: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** A git checkout holding the repository's package.json and scan configuration. */
async function scratchRepository(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "reckon-scan-"));
  for (const file of ["package.json", ".secretlintrc.json", ".secretlintignore"]) copyFileSync(join(ROOT, file), join(dir, file));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  symlinkSync(join(ROOT, "tools"), join(dir, "tools"));
  writeFileSync(join(dir, ".gitignore"), "node_modules\ntools\n");
  expect((await exec(dir, "git", ["init", "-q"])).exitCode).toBe(0);
  return dir;
}

function plant(dir: string, file: string, content: string): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), content);
}

interface LintResult {
  filePath: string;
  messages: { ruleId: string }[];
}

/** `npm run scan:secrets` (what .ci/run runs), with secretlint's JSON formatter. */
async function scanSecrets(dir: string): Promise<{ exitCode: number; results: LintResult[] }> {
  const outcome = await exec(dir, "npm", ["run", "--silent", "scan:secrets", "--", "--format", "json"]);
  return { exitCode: outcome.exitCode, results: JSON.parse(outcome.stdout || "[]") as LintResult[] };
}

const describeSample = (sample: SecretSample) => `${sample.className} (${sample.ruleId}, in ${sample.file})`;

// Each scan starts npm and secretlint; on a loaded machine a test can take well over ten seconds.
describe("secret scanning", { timeout: 180_000 }, () => {
  let samples: SecretSample[];
  beforeAll(async () => {
    samples = [...(await reckonSamples()), ...presetSamples()];
  });

  describe("in a scratch repository", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await scratchRepository();
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("every class of secret in the corpus is reported by its rule, and the scan exits 1", async () => {
      for (const sample of samples) plant(dir, sample.file, sample.content);
      try {
        const { exitCode, results } = await scanSecrets(dir);
        const reportedBy = (sample: SecretSample) =>
          results.find((result) => result.filePath === join(dir, sample.file))?.messages.map((message) => message.ruleId) ?? [];
        const unreported = samples.filter((sample) => !reportedBy(sample).includes(sample.ruleId)).map(describeSample);
        expect(unreported, "classes of secret the scan did not report").toEqual([]);
        expect(exitCode).toBe(1);
      } finally {
        for (const sample of samples) rmSync(join(dir, sample.file));
      }
    });

    it("the placeholders the docs use are not reported", async () => {
      plant(dir, "docs/example.md", placeholders());
      try {
        const { exitCode, results } = await scanSecrets(dir);
        expect(results.flatMap((result) => result.messages)).toEqual([]);
        expect(exitCode).toBe(0);
      } finally {
        rmSync(join(dir, "docs"), { recursive: true });
      }
    });

    it("a Stripe live key planted in src/ fails `npm run scan:secrets` with the file and line", async () => {
      plant(dir, "src/billing.ts", `import Stripe from "stripe";\n\nexport const stripe = new Stripe("sk_live_${base62(99)}");\n`);
      try {
        const outcome = await exec(dir, "npm", ["run", "--silent", "scan:secrets"]);
        expect(outcome.exitCode).toBe(1);
        expect(outcome.stdout).toContain(join(dir, "src/billing.ts"));
        expect(outcome.stdout).toMatch(/^\s+3:\d+\s+error\s+\[STRIPE_SECRET_KEY\]/m);
      } finally {
        rmSync(join(dir, "src"), { recursive: true });
      }
    });
  });

  describe("the pre-commit hook", () => {
    let dir: string;
    let prepared: Outcome;
    beforeAll(async () => {
      dir = await scratchRepository();
      prepared = await exec(dir, "npm", ["run", "--silent", "prepare"]);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const commit = (...args: string[]) => exec(dir, "git", ["commit", "-q", "-m", "change", ...args]);

    it("is installed by the prepare script that npm ci runs", () => {
      expect(prepared.exitCode).toBe(0);
      expect(readFileSync(join(dir, ".git/hooks/pre-commit"), "utf8")).toContain("tools/secretlint-rule-reckon/scanStaged.js");
    });

    it("lets a clean commit through and refuses one that stages a secret, even if the working tree no longer holds it", async () => {
      plant(dir, "README.md", "STRIPE_API_KEY=sk_live_...\n");
      await exec(dir, "git", ["add", "README.md", ".gitignore", "package.json"]);
      expect(await commit()).toMatchObject({ exitCode: 0 });

      const secret = samples.find((sample) => sample.ruleId.endsWith("/stripe-secret-key"))!;
      plant(dir, secret.file, secret.content);
      await exec(dir, "git", ["add", secret.file]);
      plant(dir, secret.file, "export {};\n");
      const refused = await commit();
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain(join(dir, secret.file));
      expect(refused.stderr).toContain("stripe-secret-key");
      expect((await exec(dir, "git", ["rev-list", "--count", "HEAD"])).stdout.trim()).toBe("1");
    });

    it("refuses a commit of named paths (git commit <path>), which stages through a temporary index", async () => {
      const token = samples.find((sample) => sample.ruleId.endsWith("/reckon-api-token"))!;
      plant(dir, "notes.txt", "first\n");
      await exec(dir, "git", ["add", "notes.txt"]);
      plant(dir, "notes.txt", token.content);
      const refused = await commit("--", "notes.txt");
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain("reckon-api-token");
    });

    it("the prepare script succeeds, installing nothing, outside a git checkout", async () => {
      const plain = mkdtempSync(join(tmpdir(), "reckon-nogit-"));
      try {
        copyFileSync(join(ROOT, "package.json"), join(plain, "package.json"));
        symlinkSync(join(ROOT, "node_modules"), join(plain, "node_modules"));
        expect((await exec(plain, "npm", ["run", "--silent", "prepare"])).exitCode).toBe(0);
      } finally {
        rmSync(plain, { recursive: true, force: true });
      }
    });
  });

  describe("Reckon's rules", () => {
    it("each fixed-format rule reports exactly the key, for many random keys of every allowed length", () => {
      const formats: [string, () => string][] = [
        ["stripe-secret-key", () => `sk_${["live", "test"][randomInt(2)]}_${base62(randomInt(20, 120))}`],
        ["stripe-restricted-key", () => `rk_${["live", "test"][randomInt(2)]}_${base62(randomInt(20, 120))}`],
        ["stripe-webhook-secret", () => `whsec_${base62(randomInt(20, 80))}`],
      ];
      for (const [id, make] of formats) {
        const rule = RULES.find((candidate) => candidate.id === id)!;
        for (let attempt = 0; attempt < 500; attempt += 1) {
          const key = make();
          const prefix = ['"', " ", "=", "\n", "`"][attempt % 5]!;
          const content = `const value = ${prefix}${key}${prefix}\n`;
          const start = content.indexOf(key);
          expect(findSecrets(rule, content), `${id}: ${key}`).toEqual([[start, start + key.length]]);
        }
      }
    });

    it("the token rule knows every role Reckon issues tokens for", async () => {
      const tokens = (await reckonSamples()).filter((sample) => sample.gitleaksId === "reckon-api-token");
      const rule = RULES.find((candidate) => candidate.id === "reckon-api-token")!;
      for (const sample of tokens) expect(findSecrets(rule, sample.content), sample.className).toHaveLength(1);
    });
  });

  describe(".gitleaks.toml", () => {
    const toml = readFileSync(join(ROOT, ".gitleaks.toml"), "utf8");

    it("is what the rule list produces (run `node tools/secretlint-rule-reckon/gitleaksToml.js` after changing a rule)", () => {
      expect(toml).toBe(gitleaksToml());
    });

    it("as gitleaks reads it (RE2 regular expressions), reports every sample of Reckon's classes and no placeholder", () => {
      const rules = parseGitleaksRules(toml);
      expect(rules.map((rule) => rule.id).sort()).toEqual(RULES.map((rule) => rule.id).sort());
      const unreported = samples
        .filter((sample) => sample.gitleaksId !== undefined)
        .filter((sample) => gitleaksSecrets(rules.find((rule) => rule.id === sample.gitleaksId)!, sample.content).length === 0)
        .map(describeSample);
      expect(unreported, "classes gitleaks would not report").toEqual([]);
      const text = placeholders();
      expect(rules.flatMap((rule) => gitleaksSecrets(rule, text).map((secret) => `${rule.id}: ${secret}`))).toEqual([]);
    });
  });

  it("the repository scans clean with `npm run scan:secrets`", async () => {
    const outcome = await exec(ROOT, "npm", ["run", "--silent", "scan:secrets"]);
    expect({ exitCode: outcome.exitCode, output: outcome.stdout + outcome.stderr }).toEqual({ exitCode: 0, output: "" });
  });
});
