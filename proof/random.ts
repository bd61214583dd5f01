/**
 * A seeded generator (sfc32): the same seed gives the same schedule of operations and
 * faults, so a failing run can be replayed from the seed it prints.
 */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer in [low, high], both included. */
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A child generator, so one stream (faults) does not shift another (operations). */
  fork(): Random {
    return new Random(this.int(0, 0xffffffff));
  }

  /** A hex id of `digits` characters. */
  hex(digits: number): string {
    let out = "";
    while (out.length < digits) out += this.int(0, 0xffff).toString(16).padStart(4, "0");
    return out.slice(0, digits);
  }

  /** A decimal id of `digits` characters not starting with 0, like a PayNow flake id. */
  flake(digits = 18): string {
    let out = String(this.int(1, 9));
    while (out.length < digits) out += String(this.int(0, 9));
    return out;
  }
}
