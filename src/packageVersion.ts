import { readFileSync } from "node:fs";

/**
 * The version in package.json: `reckon --version` and the OpenAPI document give it.
 * Read beside the module (`src/` under tsx, `dist/` when built), both one level below the package root.
 */
export const PACKAGE_VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
