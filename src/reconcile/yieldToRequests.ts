/**
 * Lets requests that are waiting run before the sweep takes the database again. On
 * SQLite one connection serves the whole process and its lock is not first-come
 * first-served: without this pause the sweep, always ready with its next statement,
 * would take the connection back ahead of live spends and webhooks for the whole run.
 */
export function yieldToRequests(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
