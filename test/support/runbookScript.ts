import { readFileSync } from "node:fs";

/**
 * A runbook as a script: the `$ reckon …` lines of its fenced blocks are the commands it
 * allows. A test takes each command it runs from here by its exact text, placeholders
 * (`$NAME`) filled in, so it cannot run one the page does not show; `unrun()` names the
 * commands shown that the test never took.
 */
export class RunbookScript {
  readonly commands: string[];
  private readonly used = new Set<string>();

  constructor(readonly path: string) {
    const fenced = readFileSync(path, "utf8").match(/^```[^\n]*\n[\s\S]*?^```$/gm) ?? [];
    const lines = fenced.flatMap((block) => block.split("\n").filter((line) => line.startsWith("$ reckon ")));
    this.commands = [...new Set(lines.map((line) => line.slice(2).trim()))];
  }

  /** The arguments after `reckon` of the command `template`, with `values` for its placeholders. */
  command(template: string, values: Record<string, string> = {}): string[] {
    if (!this.commands.includes(template)) throw new Error(`${this.path} does not show the command: ${template}`);
    this.used.add(template);
    const words = template.split(/\s+/).slice(1);
    return words.map((word) =>
      word.replace(/\$([A-Z][A-Z0-9_]*)/g, (_, name: string) => {
        const value = values[name];
        if (value === undefined) throw new Error(`no value for $${name} in: ${template}`);
        return value;
      }),
    );
  }

  unrun(): string[] {
    return this.commands.filter((command) => !this.used.has(command));
  }
}
