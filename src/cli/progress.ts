import { MultiBar, type SingleBar } from "cli-progress";
import { pino, type Logger } from "pino";

/**
 * How every long command shows it is moving (docs/decisions/cli-progress.md). On a
 * terminal: one bar on stderr (done of total, rate, ETA), with the command's log lines
 * printed above it instead of through it. Elsewhere: the same figures as a log line
 * (pino JSON on stderr, like every other line there) at the first update, at most once
 * every `intervalMs` after it, and at the end. Nothing ever goes to stdout, which
 * keeps only the command's result.
 */

export interface ProgressOptions {
  /** What runs, as the lines name it: "reconcile", "backfill replay", "import". */
  label: string;
  /** What is counted: "users", "events", "bytes". */
  unit: string;
  /** The command's log level (LOG_LEVEL); the progress lines off a terminal are `info`. */
  logLevel: string;
  /** Units already done before this process started (a resumed run): the rate counts only this process's work. */
  initial?: number;
  /** Where the bar and the lines go; stderr unless a test gives its own. */
  stream?: ProgressStream;
  /** Off a terminal, at most one line this often. */
  intervalMs?: number;
  /** Milliseconds now; a test gives its own. */
  clock?: () => number;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressUpdate {
  done: number;
  total: number;
  /** A few words more: "12 applied, 0 errors". */
  detail?: string;
}

export interface ProgressReporter {
  /** The command's logger: its lines go to stderr without tearing the bar. */
  readonly logger: Logger;
  update(progress: ProgressUpdate): void;
  /** Ends the bar, or writes the closing line; safe to call twice. */
  stop(): void;
}

/** Off a terminal, one line this often. */
export const PLAIN_PROGRESS_MS = 5_000;

export interface Pace {
  ratePerSecond: number;
  /** Null until something was done (the rate is still unknown) or when the total is already reached. */
  etaSeconds: number | null;
}

/** Units per second over this process's work, and the seconds left at that rate. */
export function paceOf(done: number, total: number, initial: number, elapsedMs: number): Pace {
  const worked = Math.max(0, done - initial);
  const ratePerSecond = elapsedMs <= 0 ? 0 : Math.round((worked * 1000) / elapsedMs);
  const left = Math.max(0, total - done);
  if (left === 0) return { ratePerSecond, etaSeconds: 0 };
  if (worked === 0 || elapsedMs <= 0) return { ratePerSecond, etaSeconds: null };
  return { ratePerSecond, etaSeconds: Math.ceil((left * elapsedMs) / worked / 1000) };
}

export function formatSeconds(seconds: number | null): string {
  if (seconds === null) return "?";
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}

const count = (n: number) => n.toLocaleString("en-US");

/** What both forms say: "1,200 of 5,000 users (24%), 400/s, ETA 10s; 3 healed". */
export function progressText(unit: string, update: ProgressUpdate, pace: Pace): string {
  const percent = update.total === 0 ? 100 : Math.min(100, Math.floor((update.done / update.total) * 100));
  const detail = update.detail ? `; ${update.detail}` : "";
  return `${count(update.done)} of ${count(update.total)} ${unit} (${percent}%), ${count(pace.ratePerSecond)}/s, ETA ${formatSeconds(pace.etaSeconds)}${detail}`;
}

export function startProgress(options: ProgressOptions): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const clock = options.clock ?? Date.now;
  const initial = options.initial ?? 0;
  const started = clock();
  return stream.isTTY === true ? barReporter(options, stream, clock, started, initial) : lineReporter(options, stream, clock, started, initial);
}

function barReporter(options: ProgressOptions, stream: ProgressStream, clock: () => number, started: number, initial: number): ProgressReporter {
  const bars = new MultiBar({
    stream: stream as NodeJS.WritableStream,
    format: `${options.label} [{bar}] {sentence}`,
    hideCursor: true,
    barsize: 24,
  });
  let bar: SingleBar | null = null;
  let last: ProgressUpdate | null = null;
  let stopped = false;
  const logger = pino({ level: options.logLevel }, { write: (line: string) => (bar && !stopped ? bars.log(line) : stream.write(line)) });
  const sentence = (update: ProgressUpdate) => progressText(options.unit, update, paceOf(update.done, update.total, initial, clock() - started));
  return {
    logger,
    update(update) {
      last = update;
      if (stopped) return;
      if (!bar) bar = bars.create(Math.max(1, update.total), update.done, { sentence: sentence(update) });
      else {
        bar.setTotal(Math.max(1, update.total));
        bar.update(update.done, { sentence: sentence(update) });
      }
    },
    stop() {
      if (stopped) return;
      if (bar && last) bar.update(last.done, { sentence: sentence(last) });
      // The buffered log lines are written on the next redraw; stop() alone would drop them.
      if (bar) bars.update();
      bars.stop();
      stopped = true;
    },
  };
}

function lineReporter(options: ProgressOptions, stream: ProgressStream, clock: () => number, started: number, initial: number): ProgressReporter {
  const intervalMs = options.intervalMs ?? PLAIN_PROGRESS_MS;
  const logger = pino({ level: options.logLevel }, { write: (line: string) => stream.write(line) });
  let last: ProgressUpdate | null = null;
  let written: ProgressUpdate | null = null;
  let lastLineAt = 0;
  let stopped = false;
  const line = (update: ProgressUpdate) => {
    const pace = paceOf(update.done, update.total, initial, clock() - started);
    logger.info(
      { progress: { label: options.label, unit: options.unit, done: update.done, total: update.total, ratePerSecond: pace.ratePerSecond, etaSeconds: pace.etaSeconds } },
      `${options.label}: ${progressText(options.unit, update, pace)}`,
    );
    written = update;
    lastLineAt = clock();
  };
  return {
    logger,
    update(update) {
      last = update;
      if (stopped) return;
      if (written === null || clock() - lastLineAt >= intervalMs) line(update);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      // The closing line: where the work ended, unless the last line already said so.
      if (last && last !== written) line(last);
    },
  };
}
