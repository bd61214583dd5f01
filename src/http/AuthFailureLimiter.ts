/**
 * Counts failed authentications per client address in fixed windows. Past the limit,
 * the address gets 429 until its window ends, so tokens cannot be guessed at speed.
 * In memory and per instance: a limit per instance is enough to make guessing a
 * 256-bit token or forging a JWT hopeless, and needs no shared store.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { startMs: number; failures: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    /** Bounds memory under a flood of distinct addresses: the oldest windows are dropped. */
    private readonly maxTracked = 10_000,
  ) {}

  /** Seconds the address must wait, or 0 when it may try. */
  retryAfterSeconds(address: string, nowMs: number): number {
    const window = this.windows.get(address);
    if (!window) return 0;
    const endsMs = window.startMs + this.windowMs;
    if (nowMs >= endsMs) {
      this.windows.delete(address);
      return 0;
    }
    return window.failures >= this.maxFailures ? Math.ceil((endsMs - nowMs) / 1000) : 0;
  }

  recordFailure(address: string, nowMs: number): void {
    const window = this.windows.get(address);
    if (window && nowMs < window.startMs + this.windowMs) {
      window.failures += 1;
      return;
    }
    this.windows.delete(address);
    if (this.windows.size >= this.maxTracked) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    this.windows.set(address, { startMs: nowMs, failures: 1 });
  }
}
