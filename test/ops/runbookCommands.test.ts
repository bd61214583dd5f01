import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/program.js";
import { RunbookScript } from "../support/runbookScript.js";

/**
 * Every `$ reckon …` line of every runbook names a real command with options it takes:
 * parsed by the real command tree with each action replaced by nothing, so a renamed
 * command or option fails here instead of in an operator's terminal at 3 a.m.
 */

const RUNBOOKS = "docs/runbooks";
/** A value of the right shape for placeholders an option checks; `<…>` and the rest get a word. */
const SAMPLES: Record<string, string> = { DATE: "2026-01-01", ACK_P99_MAX_MS: "250" };

function inert(command: Command): void {
  command.exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  command.action(() => undefined);
  for (const sub of command.commands) inert(sub);
}

describe("runbook commands", () => {
  const pages = readdirSync(RUNBOOKS).filter((name) => name.endsWith(".md"));
  const commands = pages.flatMap((page) => new RunbookScript(join(RUNBOOKS, page)).commands.map((command) => ({ page, command })));

  it("the runbooks show reckon commands at all", () => {
    expect(commands.length).toBeGreaterThan(30);
  });

  it("each one parses with the command tree: its command exists, its options and arguments are accepted", async () => {
    const refused: string[] = [];
    for (const { page, command } of commands) {
      const program = buildProgram({});
      // Commands without subcommands but with an action of their own are kept inert too.
      inert(program);
      const words = command
        .replace(/<[^>]+>/g, "sample")
        .split(/\s+/)
        .slice(1)
        .map((word) => word.replace(/\$([A-Z][A-Z0-9_]*)/g, (_, name: string) => SAMPLES[name] ?? "sample"));
      try {
        await program.parseAsync(["node", "reckon", ...words]);
      } catch (error) {
        refused.push(`${page}: ${command}: ${(error as Error).message}`);
      }
    }
    expect(refused).toEqual([]);
  });
});
