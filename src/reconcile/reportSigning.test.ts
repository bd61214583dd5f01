import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../config.js";
import { headSignatureValid, signHead } from "./reportSigning.js";

const dir = mkdtempSync(join(tmpdir(), "reckon-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pemFile(name: string, pem: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, pem, { mode: 0o600 });
  return path;
}

const ed = generateKeyPairSync("ed25519");
const other = generateKeyPairSync("ed25519");
const signingKeyFile = pemFile("signing.pem", ed.privateKey.export({ type: "pkcs8", format: "pem" }));
const verifyKeyFile = pemFile("verify.pem", ed.publicKey.export({ type: "spki", format: "pem" }));
const otherVerifyKeyFile = pemFile("other-verify.pem", other.publicKey.export({ type: "spki", format: "pem" }));

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe("report signing keys", () => {
  it("a head signed with the private key verifies with the public key, and any other head or key does not", () => {
    const checksum = fc.stringMatching(/^[0-9a-f]{64}$/);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), checksum, checksum, (position, one, another) => {
        const head = { position, date: "2026-01-01", checksum: one };
        const signature = signHead(ed.privateKey, head);
        expect(headSignatureValid(ed.publicKey, head, signature)).toBe(true);
        expect(headSignatureValid(other.publicKey, head, signature)).toBe(false);
        expect(headSignatureValid(ed.publicKey, { ...head, position: position + 1 }, signature)).toBe(false);
        expect(headSignatureValid(ed.publicKey, { ...head, checksum: another }, signature)).toBe(one === another);
      }),
      { numRuns: 50 },
    );
  });

  it("configuration derives the public key from the signing key and takes a public key alone", () => {
    const signing = loadConfig({ REPORT_SIGNING_KEY_FILE: signingKeyFile, REPORT_ANCHOR_FILE: join(dir, "anchor.jsonl") }).reports;
    expect(signing.keys.verifyKey?.equals(ed.publicKey)).toBe(true);
    expect(signing.anchorFile).toBe(join(dir, "anchor.jsonl"));
    const verifying = loadConfig({ REPORT_VERIFY_KEY_FILE: verifyKeyFile }).reports;
    expect(verifying.keys.signingKey).toBeNull();
    expect(verifying.keys.verifyKey?.equals(ed.publicKey)).toBe(true);
    expect(loadConfig({}).reports).toEqual({ keys: { signingKey: null, verifyKey: null }, anchorFile: null });
  });

  it("refuses to start with a key that is not Ed25519, an unreadable file, or a public key of another pair", () => {
    const rsa = pemFile("rsa.pem", generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }));
    expect(problemsOf({ REPORT_SIGNING_KEY_FILE: rsa })).toEqual([`REPORT_SIGNING_KEY_FILE: ${rsa} holds a rsa key; an Ed25519 key is required`]);
    expect(problemsOf({ REPORT_VERIFY_KEY_FILE: join(dir, "absent.pem") })).toEqual([`REPORT_VERIFY_KEY_FILE: cannot read an Ed25519 PEM key from ${join(dir, "absent.pem")} (ENOENT)`]);
    expect(problemsOf({ REPORT_SIGNING_KEY_FILE: signingKeyFile, REPORT_VERIFY_KEY_FILE: otherVerifyKeyFile })).toEqual([
      "REPORT_VERIFY_KEY_FILE is not the public key of REPORT_SIGNING_KEY_FILE",
    ]);
  });
});
