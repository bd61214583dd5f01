import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { paceOf, startProgress, type ProgressStream } from "./progress.js";

/** A stream that keeps what is written, a terminal or not. */
function captured(isTTY: boolean): ProgressStream & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, columns: 120, write: (chunk: string) => chunks.push(chunk), text: () => chunks.join("") };
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("progress pace", () => {
  it("the ETA is the fewest whole seconds in which the rate so far finishes the rest", () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(10_000), fc.nat(10_000), fc.integer({ min: 1, max: 3_600_000 }), (initial, workedRaw, leftRaw, elapsedMs) => {
        const done = initial + workedRaw;
        const total = done + leftRaw;
        const pace = paceOf(done, total, initial, elapsedMs);
        expect(pace.ratePerSecond).toBe(Math.round((workedRaw * 1000) / elapsedMs));
        if (leftRaw === 0) expect(pace.etaSeconds).toBe(0);
        else if (workedRaw === 0) expect(pace.etaSeconds).toBeNull();
        else {
          // Model in exact integers: s seconds suffice when s * 1000 * worked >= left * elapsed.
          const enough = (s: number) => BigInt(s) * 1000n * BigInt(workedRaw) >= BigInt(leftRaw) * BigInt(elapsedMs);
          expect(enough(pace.etaSeconds!)).toBe(true);
          expect(enough(pace.etaSeconds! - 1)).toBe(false);
        }
      }),
    );
  });
});

describe("progress off a terminal", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes a JSON log line at once, then at most one per interval, then where it ended; never on stdout", () => {
    const stdout = vi.spyOn(process.stdout, "write");
    const stream = captured(false);
    let now = 0;
    const progress = startProgress({ label: "reconcile", unit: "users", logLevel: "info", stream, intervalMs: 5_000, clock: () => now });
    now = 1_000;
    progress.update({ done: 100, total: 1_000 });
    now = 3_000;
    progress.update({ done: 300, total: 1_000 });
    now = 6_000;
    progress.update({ done: 600, total: 1_000, detail: "3 of 5 chunks" });
    now = 7_000;
    progress.update({ done: 1_000, total: 1_000 });
    progress.logger.warn("a log line of the command itself");
    progress.stop();
    progress.stop();
    const lines = jsonLines(stream.text());
    const progressLines = lines.filter((line) => "progress" in line);
    expect(progressLines.map((line) => (line.progress as { done: number }).done)).toEqual([100, 600, 1_000]);
    expect(progressLines.map((line) => line.msg)).toEqual([
      "reconcile: 100 of 1,000 users (10%), 100/s, ETA 9s",
      "reconcile: 600 of 1,000 users (60%), 100/s, ETA 4s; 3 of 5 chunks",
      "reconcile: 1,000 of 1,000 users (100%), 143/s, ETA 0s",
    ]);
    expect(lines.some((line) => line.msg === "a log line of the command itself")).toBe(true);
    expect(stdout).not.toHaveBeenCalled();
  });

  it("stays silent below the log level, and writes nothing when nothing was done", () => {
    const quiet = captured(false);
    const progress = startProgress({ label: "import", unit: "bytes", logLevel: "warn", stream: quiet });
    progress.update({ done: 1, total: 2 });
    progress.stop();
    const idle = captured(false);
    startProgress({ label: "demo", unit: "steps", logLevel: "info", stream: idle }).stop();
    expect([quiet.text(), idle.text()]).toEqual(["", ""]);
  });
});

describe("progress on a terminal", () => {
  it("draws a bar with done, total, rate and ETA, prints log lines whole above it, and gives the cursor back", async () => {
    const stream = captured(true);
    let now = 0;
    const progress = startProgress({ label: "backfill webhook_replay", unit: "events", logLevel: "info", stream, clock: () => now });
    now = 2_000;
    progress.update({ done: 50, total: 200, detail: "48 applied, 2 errors" });
    progress.logger.info({ eventId: "evt_1" }, "backfill action");
    await new Promise((resolveWait) => setTimeout(resolveWait, 250));
    now = 4_000;
    progress.update({ done: 200, total: 200, detail: "196 applied, 4 errors" });
    progress.stop();
    const text = stream.text();
    expect(text).toContain("backfill webhook_replay [");
    expect(text).toContain("50 of 200 events (25%), 25/s, ETA 6s; 48 applied, 2 errors");
    expect(text).toContain("200 of 200 events (100%), 50/s, ETA 0s; 196 applied, 4 errors");
    const logLine = text.split("\n").find((line) => line.includes('"eventId":"evt_1"'));
    expect(JSON.parse(logLine!.slice(logLine!.indexOf("{")))).toMatchObject({ eventId: "evt_1", msg: "backfill action" });
    expect(text).toContain("\x1b[?25h");
  });
});
