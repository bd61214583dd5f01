import { open, readFile } from "node:fs/promises";
import type { ChainHead } from "./reportSigning.js";

/**
 * The anchor: an append-only file (REPORT_ANCHOR_FILE) of one JSON line per completed
 * run, `{position, date, checksum, signature}`, kept outside the database. Whoever
 * deletes the newest runs from the database cannot delete them from the anchor (put it
 * on append-only or remote storage), so verify can tell a truncated chain from a short one.
 */

export interface AnchorLine extends ChainHead {
  signature: string | null;
}

/** Appends one line and flushes it to disk before returning. */
export async function appendAnchor(file: string, line: AnchorLine): Promise<void> {
  const handle = await open(file, "a", 0o644);
  try {
    await handle.appendFile(`${JSON.stringify({ position: line.position, date: line.date, checksum: line.checksum, signature: line.signature })}\n`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

export type AnchorRead =
  | { state: "missing" }
  /** Line numbers are 1-based; `unreadable` lists those that are not anchor lines. */
  | { state: "read"; lines: (AnchorLine & { lineNumber: number })[]; unreadable: number[] };

function parseLine(text: string): AnchorLine | null {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    const { position, date, checksum, signature } = value;
    if (!Number.isSafeInteger(position) || (position as number) < 1) return null;
    if (typeof date !== "string" || typeof checksum !== "string") return null;
    if (signature !== null && typeof signature !== "string") return null;
    return { position: position as number, date, checksum, signature };
  } catch {
    return null;
  }
}

export async function readAnchor(file: string): Promise<AnchorRead> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { state: "missing" };
    throw error;
  }
  const lines: (AnchorLine & { lineNumber: number })[] = [];
  const unreadable: number[] = [];
  text.split("\n").forEach((row, index) => {
    if (row.trim() === "") return;
    const line = parseLine(row);
    if (line) lines.push({ ...line, lineNumber: index + 1 });
    else unreadable.push(index + 1);
  });
  return { state: "read", lines, unreadable };
}
