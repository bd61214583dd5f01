import Table from "cli-table3";
import picocolors from "picocolors";
import type { Command } from "commander";

/**
 * How a command prints its result (docs/decisions/cli-output.md): words and tables for
 * a person when stdout is a terminal or `--human` asks for them, otherwise exactly the
 * JSON a script reads. `--json` always wins. Colours only on a terminal, never with
 * NO_COLOR (picocolors reads it).
 */

export interface OutputOptions {
  json?: boolean;
  human?: boolean;
}

export function wantsHuman(options: OutputOptions, stdoutIsTTY: boolean = process.stdout.isTTY === true): boolean {
  if (options.json) return false;
  return options.human === true || stdoutIsTTY;
}

export interface Style {
  bold(text: string): string;
  /** A finding that needs no action. */
  good(text: string): string;
  /** A finding the reader must act on. */
  bad(text: string): string;
  dim(text: string): string;
  /** Rows under a header, aligned, no borders; cells are printed as given. */
  table(head: string[], rows: (string | number | null)[][]): string;
}

export function styleFor(colour: boolean): Style {
  const colours = picocolors.createColors(colour);
  return {
    bold: colours.bold,
    good: colours.green,
    bad: colours.red,
    dim: colours.dim,
    table(head, rows) {
      const table = new Table({
        head: head.map((cell) => colours.bold(cell)),
        chars: {
          top: "", "top-mid": "", "top-left": "", "top-right": "",
          bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
          left: "  ", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "  ",
        },
        style: { "padding-left": 0, "padding-right": 0, head: [], border: [], compact: true },
      });
      for (const row of rows) table.push(row.map((cell) => (cell === null ? "-" : typeof cell === "number" ? count(cell) : cell)));
      return table.toString();
    },
  };
}

/** An integer as a person reads it: 1,234,567. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** "1 user", "2 users". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

export interface ResultForms {
  /** Exactly what scripts have always read. */
  json: () => string;
  /** What a person reads: what ran, what was found, what changed, what to do next. */
  human: (style: Style) => string | Promise<string>;
}

/** Prints a command's result on stdout in the form `options` and the terminal call for. */
export async function printResult(options: OutputOptions, forms: ResultForms): Promise<void> {
  const stdoutIsTTY = process.stdout.isTTY === true;
  if (!wantsHuman(options, stdoutIsTTY)) {
    console.log(forms.json());
    return;
  }
  console.log(await forms.human(styleFor(stdoutIsTTY && picocolors.isColorSupported)));
}

/**
 * `--json` and `--human` for a command that prints a result, so a script can insist on
 * JSON on a terminal and a test can ask for words through a pipe.
 */
export function outputOptions(command: Command): Command {
  return command
    .option("--json", "print the machine-readable JSON (the default when stdout is not a terminal)")
    .option("--human", "print the summary for people even when stdout is not a terminal");
}
