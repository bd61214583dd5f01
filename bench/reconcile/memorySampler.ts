import { readFileSync } from "node:fs";

/** The kinds of resident memory Linux counts for this process, in MiB (`/proc/self/status`). */
export interface ResidentMiB {
  rss: number;
  /** Heaps of every thread: V8's, SQLite's page caches, malloc arenas. */
  anon: number;
  /** Mapped files: the node binary, native addons, and any database pages SQLite maps (`mmap_size`). */
  file: number;
  /** Shared mappings: SQLite's WAL index (`-shm`). */
  shmem: number;
  /** This (main) thread's V8 heap in use, and memory outside it held by its objects. */
  mainHeapUsed: number;
  mainExternal: number;
}

function status(): Omit<ResidentMiB, "mainHeapUsed" | "mainExternal"> {
  const text = readFileSync("/proc/self/status", "utf8");
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN);
  const mib = (name: string) => Math.round(kib(name) / 1024);
  return { rss: mib("VmRSS"), anon: mib("RssAnon"), file: mib("RssFile"), shmem: mib("RssShmem") };
}

export function residentNow(): ResidentMiB {
  const usage = process.memoryUsage();
  return { ...status(), mainHeapUsed: Math.round(usage.heapUsed / 1048576), mainExternal: Math.round(usage.external / 1048576) };
}

/**
 * Samples the process's resident memory every `everyMs` while the bench runs, so a peak
 * RSS can be told apart: thread heaps and page caches (anon) from mapped files.
 * `mark` records the figures at a named moment; `peak` is the sample of the highest RSS
 * since the last `mark` of `peakSince`.
 */
export class MemorySampler {
  readonly marks: Record<string, ResidentMiB> = {};
  readonly peaks: Record<string, ResidentMiB> = {};
  #phase = "start";
  readonly #timer: NodeJS.Timeout;

  constructor(everyMs = 100) {
    this.#timer = setInterval(() => this.#sample(), everyMs);
    this.#timer.unref();
  }

  #sample(): void {
    const now = residentNow();
    const peak = this.peaks[this.#phase];
    if (!peak || now.rss > peak.rss) this.peaks[this.#phase] = now;
  }

  /** Records the figures now, and starts a new phase for the peaks. */
  mark(name: string): void {
    this.#sample();
    this.marks[name] = residentNow();
    this.#phase = name;
  }

  stop(): { marks: Record<string, ResidentMiB>; peaksAfter: Record<string, ResidentMiB> } {
    this.#sample();
    clearInterval(this.#timer);
    return { marks: this.marks, peaksAfter: this.peaks };
  }
}
