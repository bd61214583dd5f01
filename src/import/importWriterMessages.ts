import type { ReadyUser } from "./applyImportBatch.js";
import type { CommitSettings, CommittedBatch } from "./commitImportBatch.js";

/** What the import's writer thread starts with: the database it opens, and how it commits. */
export interface ImportWriterData {
  url: string;
  settings: CommitSettings;
}

export type ToImportWriter = { kind: "commit"; id: number; users: ReadyUser[] } | { kind: "close" };

export type FromImportWriter = { kind: "committed"; id: number; batch: CommittedBatch } | { kind: "failed"; id: number; message: string; code: string | null };
