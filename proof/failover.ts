import type { Background } from "./background.js";
import { pause } from "./background.js";
import type { PostgresPair } from "./postgresPair.js";
import type { Random } from "./random.js";

export interface FailoverWindow {
  fromMs: number;
  /** When the standby answered as primary. */
  promotedMs: number;
  /** The end of the span in which 5xx is allowed: promotion plus the instances' first reconnection. */
  toMs: number;
}

/** After promotion, this long for every pool to drop its dead connections and find the new primary. */
export const RECONNECT_GRACE_MS = 3_000;

/**
 * At a seeded moment, SIGKILLs the primary, waits a seeded detection delay (what a
 * failover manager would take to notice), promotes the standby, and points the
 * proof's own connection at it. Reckon instances are told nothing.
 */
export async function failOver(bg: Background, random: Random, pair: PostgresPair, atMs: number, windows: FailoverWindow[], onPromoted: () => Promise<void>): Promise<void> {
  await pause(atMs, bg.stopped);
  if (bg.stopped()) return;
  const detectMs = random.int(1_000, 3_000);
  const fromMs = bg.nowMs();
  const window: FailoverWindow = { fromMs, promotedMs: Number.POSITIVE_INFINITY, toMs: Number.POSITIVE_INFINITY };
  windows.push(window);
  await pair.killPrimary();
  bg.say(`SIGKILL of the PostgreSQL primary; promoting the standby in ${detectMs} ms`);
  await new Promise((resolveWait) => setTimeout(resolveWait, detectMs));
  await pair.promoteStandby();
  window.promotedMs = bg.nowMs();
  window.toMs = window.promotedMs + RECONNECT_GRACE_MS;
  await onPromoted();
  bg.say(`standby promoted ${Math.round(window.promotedMs - fromMs)} ms after the kill`);
}
