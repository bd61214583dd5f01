/**
 * Read-your-writes for the stored-state metrics' cache: a job that changed what they
 * describe (a reconciliation completed, a backfill batch committed or a run ended) marks
 * it, and this process's next scrape reads the database again instead of answering from
 * a cache up to 5 seconds old. Other processes see the change when their cache expires.
 */
let generation = 0;

export function markStoredStateChanged(): void {
  generation += 1;
}

export function storedStateGeneration(): number {
  return generation;
}
