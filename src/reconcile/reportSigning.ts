import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * Ed25519 signatures over the head of the report chain. The private key is held
 * outside the database (REPORT_SIGNING_KEY_FILE), so someone who can rewrite the
 * tables can recompute hashes but cannot sign them; a verifier needs only the public
 * key (REPORT_VERIFY_KEY_FILE, or derived from the private one).
 */

/** One run as the chain's head at its position: what is signed, anchored and published. */
export interface ChainHead {
  position: number;
  date: string;
  checksum: string;
}

export interface ReportKeys {
  /** Present where runs are completed (the server, the CLI that reconciles). */
  signingKey: KeyObject | null;
  /** Present wherever reports are verified. */
  verifyKey: KeyObject | null;
}

export const NO_REPORT_KEYS: ReportKeys = { signingKey: null, verifyKey: null };

/** The signed bytes: a label (so the signature means nothing elsewhere) and the head. */
function headMessage(head: ChainHead): Buffer {
  return Buffer.from(JSON.stringify(["reckon.report-chain-head", head.position, head.date, head.checksum]), "utf8");
}

/** Base64 of the Ed25519 signature of `head`. */
export function signHead(signingKey: KeyObject, head: ChainHead): string {
  return sign(null, headMessage(head), signingKey).toString("base64");
}

export function headSignatureValid(verifyKey: KeyObject, head: ChainHead, signature: string): boolean {
  try {
    return verify(null, headMessage(head), verifyKey, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

/**
 * Reads the key files named by the configuration. Problems are returned as sentences
 * for the configuration's list, never thrown.
 */
export function loadReportKeys(files: { signingKeyFile?: string | undefined; verifyKeyFile?: string | undefined }): { keys: ReportKeys; problems: string[] } {
  const problems: string[] = [];
  const read = (variable: string, path: string, parse: (pem: string) => KeyObject): KeyObject | null => {
    try {
      const key = parse(readFileSync(path, "utf8"));
      if (key.asymmetricKeyType !== "ed25519") {
        problems.push(`${variable}: ${path} holds a ${key.asymmetricKeyType ?? "non-asymmetric"} key; an Ed25519 key is required`);
        return null;
      }
      return key;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push(`${variable}: cannot read an Ed25519 PEM key from ${path}${code ? ` (${code})` : ""}`);
      return null;
    }
  };
  const signingKey = files.signingKeyFile ? read("REPORT_SIGNING_KEY_FILE", files.signingKeyFile, (pem) => createPrivateKey(pem)) : null;
  let verifyKey = files.verifyKeyFile ? read("REPORT_VERIFY_KEY_FILE", files.verifyKeyFile, (pem) => createPublicKey(pem)) : null;
  if (signingKey) {
    const derived = createPublicKey(signingKey);
    if (verifyKey && !derived.equals(verifyKey)) problems.push("REPORT_VERIFY_KEY_FILE is not the public key of REPORT_SIGNING_KEY_FILE");
    verifyKey ??= derived;
  }
  return { keys: { signingKey, verifyKey }, problems };
}
