import { createHash, type KeyObject } from "node:crypto";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { ArchiveChecker, type ArchiveCheck } from "./archiveChecker.js";
import { readAnchor } from "./reportAnchor.js";
import type { Verdict } from "./verifyReports.js";

export interface ArchiveVerifyResult extends ArchiveCheck {
  ok: boolean;
  verdict: Verdict;
  /** SHA-256 of the file as stored (compressed): what `report_archives` records. */
  fileSha256: string;
}

/**
 * `reports verify --archive F`: streams the gzip file through `ArchiveChecker`. Needs no
 * database; the verify key checks each run's signature, the anchor file (when given)
 * each archived run's place. The verdicts are those of `reports verify`.
 */
export async function verifyArchive(file: string, options: { verifyKey: KeyObject | null; anchorFile: string | null }): Promise<ArchiveVerifyResult> {
  const anchor = options.anchorFile ? { read: await readAnchor(options.anchorFile), file: options.anchorFile } : null;
  const checker = new ArchiveChecker({ verifyKey: options.verifyKey, anchor });
  const fileHash = createHash("sha256");
  const source = createReadStream(file);
  source.on("data", (chunk) => fileHash.update(chunk));
  const gunzip = createGunzip();
  let broken: string | null = null;
  try {
    const lines = createInterface({ input: source.pipe(gunzip), crlfDelay: Infinity });
    gunzip.on("error", (error) => {
      broken = error.message;
      lines.close();
    });
    for await (const line of lines) checker.line(line);
  } catch (error) {
    broken ??= (error as Error).message;
  }
  const check = checker.finish();
  if (broken !== null) check.problems.unshift({ problem: "archive_corrupt", why: `it cannot be read as gzip: ${broken}` });
  const verdict: Verdict = check.problems.length > 0 ? "failed" : options.verifyKey === null ? "unsigned" : !options.anchorFile ? "unanchored" : "verified";
  return { ...check, ok: verdict === "verified", verdict, fileSha256: fileHash.digest("hex") };
}
