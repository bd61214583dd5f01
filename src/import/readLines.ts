import { createReadStream } from "node:fs";

/** A line of a file: its text, or why it could not be read as text. */
export type FileLine = { number: number; text: string } | { number: number; unreadable: "not_utf8" | "line_too_long" };

export interface LineReader {
  lines: AsyncIterable<FileLine>;
  /** Bytes consumed so far, for progress. */
  bytesRead(): number;
}

const NEWLINE = 0x0a;

/**
 * Streams a file's lines with memory bounded by `maxLineBytes`: a longer line is
 * reported and skipped to its end, never held. Lines must be UTF-8; a trailing `\r`
 * is dropped; blank lines are skipped but still counted, so numbers match an editor's.
 */
export function readLines(path: string, maxLineBytes: number): LineReader {
  let consumed = 0;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  async function* generate(): AsyncGenerator<FileLine> {
    let parts: Buffer[] = [];
    let partBytes = 0;
    let tooLong = false;
    let number = 0;
    const finish = (): FileLine | null => {
      number += 1;
      // Most lines sit inside one chunk of the file: read them where they are.
      const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts, partBytes);
      const wasTooLong = tooLong;
      parts = [];
      partBytes = 0;
      tooLong = false;
      if (wasTooLong) return { number, unreadable: "line_too_long" };
      const end = whole.length > 0 && whole[whole.length - 1] === 0x0d ? whole.length - 1 : whole.length;
      let text: string;
      try {
        text = decoder.decode(whole.subarray(0, end));
      } catch {
        return { number, unreadable: "not_utf8" };
      }
      return text.trim() === "" ? null : { number, text };
    };
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      let start = 0;
      while (start < chunk.length) {
        const newline = chunk.indexOf(NEWLINE, start);
        const stop = newline === -1 ? chunk.length : newline;
        if (!tooLong) {
          if (partBytes + (stop - start) > maxLineBytes) {
            tooLong = true;
            parts = [];
            partBytes = 0;
          } else {
            parts.push(chunk.subarray(start, stop));
            partBytes += stop - start;
          }
        }
        if (newline === -1) break;
        const line = finish();
        if (line) yield line;
        start = newline + 1;
      }
      consumed += chunk.length;
    }
    if (partBytes > 0 || tooLong) {
      const line = finish();
      if (line) yield line;
    }
  }
  return { lines: generate(), bytesRead: () => consumed };
}
