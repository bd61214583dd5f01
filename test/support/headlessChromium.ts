import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Debian's chromium; `.ci/run` installs it when missing. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Whether the browser tests can run here. Under CI a missing browser is a failure (the
 * test then throws at launch), never a skip; on a developer machine without it they skip.
 */
export function browserTestsRun(): boolean {
  return existsSync(CHROMIUM_PATH) || process.env.CI === "true";
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does this`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}
