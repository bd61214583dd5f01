import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ADMIN_CSS } from "./assets/adminCss.js";
import { ADMIN_SCRIPT } from "./assets/adminScript.js";

export interface Asset {
  contentType: string;
  body: string;
}

/** uPlot's own build files, read from the installed package: never fetched from a CDN. */
function uplotFile(name: string): string {
  const main = createRequire(import.meta.url).resolve("uplot");
  return readFileSync(join(dirname(main), name), "utf8");
}

let assets: Map<string, Asset> | undefined;

/** The page's static files by name, read once; they hold no data, so they are served without a login. */
export function adminAssets(): Map<string, Asset> {
  assets ??= new Map([
    ["admin.css", { contentType: "text/css; charset=utf-8", body: ADMIN_CSS }],
    ["admin.js", { contentType: "text/javascript; charset=utf-8", body: ADMIN_SCRIPT }],
    ["uPlot.min.css", { contentType: "text/css; charset=utf-8", body: uplotFile("uPlot.min.css") }],
    ["uPlot.iife.min.js", { contentType: "text/javascript; charset=utf-8", body: uplotFile("uPlot.iife.min.js") }],
  ]);
  return assets;
}
