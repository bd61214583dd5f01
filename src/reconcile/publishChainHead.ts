import { appendAnchor } from "./reportAnchor.js";
import type { ChainHead, ReportKeys } from "./reportSigning.js";

/** Where reports are signed and anchored (config: REPORT_SIGNING_KEY_FILE, REPORT_VERIFY_KEY_FILE, REPORT_ANCHOR_FILE). */
export interface ReportSettings {
  keys: ReportKeys;
  anchorFile: string | null;
}

/** The part of a pino logger the head is published through. */
export interface ChainLogger {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export type AnchorOutcome = "anchored" | "no_anchor_file" | "anchor_failed";

/**
 * Publishes a new chain head in the two places outside the database: one log line,
 * and a line appended to the anchor file. (The metric `reckon_report_chain_head_position`
 * is read from the stored runs at each scrape: see `src/ops/storedStateMetrics.ts`.) The run is already committed; a failed
 * append is logged and reported, and the next run's line anchors the chain again.
 */
export async function publishChainHead(
  head: ChainHead & { signature: string | null },
  settings: ReportSettings,
  logger: ChainLogger | undefined,
): Promise<AnchorOutcome> {
  logger?.info({ reportChainHead: head }, `report chain head: position ${head.position}, ${head.date}, checksum ${head.checksum}`);
  if (settings.anchorFile === null) return "no_anchor_file";
  try {
    await appendAnchor(settings.anchorFile, head);
    return "anchored";
  } catch (error) {
    logger?.error({ err: error, anchorFile: settings.anchorFile }, "report chain head could not be appended to the anchor file");
    return "anchor_failed";
  }
}
