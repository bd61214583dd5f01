#!/usr/bin/env node
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { loadConfig } from "@secretlint/config-loader";
import { lintSource } from "@secretlint/core";
import { loadFormatter } from "@secretlint/formatter";
import ignore from "ignore";

/**
 * The pre-commit scan: secretlint with the repository's configuration over what the
 * commit adds. Each added or changed file is read from the index (the content that will
 * be committed, which may differ from the working tree), so a key that was staged and
 * then edited away on disk is still caught. `.secretlintignore` applies, as in the
 * whole-tree scan. Exits 1 on any finding and 2 when the scan itself cannot run, so a
 * broken scanner blocks the commit rather than letting it through unchecked.
 */

const git = (args, cwd) => execFileSync("git", args, { cwd, maxBuffer: 1 << 30 });

/** Added, copied, modified or retyped files in the index, with their staged blob ids. */
function stagedBlobs(top) {
  const args = ["diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "--diff-filter=ACMT"];
  const fields = git(args, top).toString("utf8").split("\0");
  const blobs = [];
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const [, mode, , sha] = fields[index].slice(1).split(" ");
    // A submodule entry names a commit of another repository, not content of this one.
    if (mode !== "160000") blobs.push({ path: fields[index + 1], sha });
  }
  return blobs;
}

/** The bytes of each blob, in order, from one `git cat-file --batch` process. */
function readBlobs(top, shas) {
  if (shas.length === 0) return [];
  const output = execFileSync("git", ["cat-file", "--batch"], { cwd: top, input: `${shas.join("\n")}\n`, maxBuffer: 1 << 30 });
  const blobs = [];
  let offset = 0;
  for (const sha of shas) {
    const headerEnd = output.indexOf(10, offset);
    const [name, type, size] = output.subarray(offset, headerEnd).toString("utf8").split(" ");
    offset = headerEnd + 1;
    // An intent-to-add entry names the empty blob, which may not be stored: nothing to scan.
    if (name === sha && type === "missing") {
      blobs.push(Buffer.alloc(0));
      continue;
    }
    if (name !== sha || type !== "blob") throw new Error(`git cat-file answered "${name} ${type}" for blob ${sha}`);
    blobs.push(output.subarray(offset, offset + Number(size)));
    offset += Number(size) + 1;
  }
  return blobs;
}

function ignoredBy(top) {
  const rules = ignore().add(["**/.git/**", "**/node_modules/**"]);
  const file = join(top, ".secretlintignore");
  if (existsSync(file)) rules.add(readFileSync(file, "utf8"));
  return (path) => rules.ignores(path);
}

/** secretlint results for every staged file that is not ignored. */
async function scanStaged(cwd = process.cwd()) {
  const top = git(["rev-parse", "--show-toplevel"], cwd).toString("utf8").trim();
  const loaded = await loadConfig({ cwd: top });
  if (!loaded.ok) throw new Error(`secretlint could not load its configuration in ${top}`);
  const ignored = ignoredBy(top);
  const blobs = stagedBlobs(top).filter((blob) => !ignored(blob.path));
  const contents = readBlobs(top, blobs.map((blob) => blob.sha));
  const results = [];
  for (const [index, blob] of blobs.entries()) {
    const bytes = contents[index];
    const binary = bytes.includes(0);
    const source = {
      filePath: join(top, blob.path),
      content: binary ? "" : bytes.toString("utf8"),
      ext: extname(blob.path),
      contentType: binary ? "binary" : "text",
    };
    results.push(await lintSource({ source, options: { config: loaded.config, maskSecrets: true } }));
  }
  return results;
}

async function main() {
  const results = await scanStaged();
  const failed = results.filter((result) => result.messages.length > 0);
  if (failed.length === 0) return 0;
  const formatter = await loadFormatter({ formatterName: "stylish", color: process.stderr.isTTY === true, terminalLink: false });
  process.stderr.write(`${formatter.format(failed)}\n`);
  process.stderr.write("commit refused: the staged changes hold secrets (see above). Remove them, rotate any that were real (docs/security.md), and commit again.\n");
  return 1;
}

// This file is only ever run, never imported: a "was I run directly?" test can fail
// (a symlinked path) and would then let every commit through unscanned.
main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`secret scan of staged files could not run: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
