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
  it("answers each sync() with the first fsync that starts after it, one fsync at a time, however calls and fsyncs interleave", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.constant("sync" as const), fc.boolean()), { maxLength: 40 }), async (steps) => {
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
        );
        // The model: a call made when `started` fsyncs had begun is answered by fsync number `started`.
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

        expect(mostRunning).toBeLessThanOrEqual(1);
        expect(flushes.length).toBeLessThanOrEqual(calls.length);
        for (const call of calls) {
          expect(call.answeredBy).toBeLessThan(flushes.length);
          // Answered only once its fsync ended, with that fsync's outcome.
          expect(call.finishedBefore).toBeGreaterThan(call.answeredBy);
          expect(call.result).toBe(outcomes[call.answeredBy] ? "ok" : "failed");
        }
      }),
      { numRuns: 200 },
    );
  });
});
