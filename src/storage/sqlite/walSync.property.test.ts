import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WalSync, WalSyncError } from "./walSync.js";

/** An fsync the test ends by hand, in the order they started. */
interface Flush {
  finish(ok: boolean): void;
}

/** Lets every promise callback queued so far run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("WalSync: an acknowledgement waits for an fsync that started after its commit", () => {
  it("answers each sync() once the first fsync that starts after it and every earlier one have succeeded, at most `maxRunning` at once, however calls and fsyncs interleave; after a failure, every later answer is a refusal", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.constant("sync" as const), fc.boolean()), { maxLength: 40 }), fc.integer({ min: 1, max: 3 }), async (steps, maxRunning) => {
        const flushes: Flush[] = [];
        const outcomes: boolean[] = [];
        let running = 0;
        let mostRunning = 0;
        const walSync = new WalSync(
          () =>
            new Promise<void>((resolve, reject) => {
              running++;
              mostRunning = Math.max(mostRunning, running);
              flushes.push({
                finish: (ok) => {
                  running--;
                  outcomes.push(ok);
                  if (ok) resolve();
                  else reject(new Error("EIO"));
                },
              });
            }),
          undefined,
          maxRunning,
        );
        // The model: a call made when `started` fsyncs had begun is answered by fsync number
        // `started` (at once, or when one under way ends), unless an fsync had failed already.
        const calls: { answeredBy: number; result?: "ok" | "failed"; finishedBefore?: number }[] = [];
        let finished = 0;
        const finishNext = async (ok: boolean) => {
          flushes[finished]!.finish(ok);
          finished++;
          await settle();
        };
        for (const step of steps) {
          if (step === "sync") {
            const call: (typeof calls)[number] = { answeredBy: flushes.length };
            calls.push(call);
            walSync.sync().then(
              () => Object.assign(call, { result: "ok", finishedBefore: finished }),
              (error: unknown) => Object.assign(call, { result: error instanceof WalSyncError ? "failed" : "wrong error", finishedBefore: finished }),
            );
            await settle();
          } else if (finished < flushes.length) {
            await finishNext(step);
          }
        }
        while (finished < flushes.length) await finishNext(true);

        expect(mostRunning).toBeLessThanOrEqual(maxRunning);
        expect(flushes.length).toBeLessThanOrEqual(calls.length);
        for (const call of calls) {
          const upTo = outcomes.slice(0, call.answeredBy + 1);
          if (call.result === "ok") {
            // Answered only once its fsync and every one before it ended, all of them well.
            expect(call.answeredBy).toBeLessThan(flushes.length);
            expect(call.finishedBefore).toBeGreaterThan(call.answeredBy);
            expect(upTo.every(Boolean)).toBe(true);
          } else {
            // Refused with a WalSyncError, because an fsync up to its own failed.
            expect(call.result).toBe("failed");
            expect(upTo.includes(false)).toBe(true);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
