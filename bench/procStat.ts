import { readFileSync } from "node:fs";

/** Linux's USER_HZ: the unit of the CPU times in /proc stat files. */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * One /proc stat file, a process's (`/proc/<pid>/stat`) or a thread's
 * (`/proc/<pid>/task/<tid>/stat`, `/proc/thread-self/stat`): its name, its parent's pid and
 * the clock ticks it has spent in user plus system mode. The name may hold spaces and
 * parentheses, so the fields are counted after its last `)`. Throws once the process or
 * thread is gone.
 */
export function readProcStat(path: string): { name: string; parent: number; ticks: number } {
  const stat = readFileSync(path, "utf8");
  const close = stat.lastIndexOf(")");
  // After the name: state, ppid, …, utime (14th field of the file), stime (15th).
  const fields = stat.slice(close + 2).split(" ");
  return { name: stat.slice(stat.indexOf("(") + 1, close), parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}
