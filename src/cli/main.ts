#!/usr/bin/env node
import { ConfigError } from "../config.js";
import { WorkersRefusedError } from "../runtime/serveWorkers.js";
import { buildProgram } from "./program.js";

buildProgram(process.env)
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof ConfigError) console.error(error.message);
    else console.error(`reckon: ${(error as Error).message}`);
    process.exit(error instanceof WorkersRefusedError ? error.exitCode : 1);
  });
