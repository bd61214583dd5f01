import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A legacy user as a test plans it: the balance the old store shows and its history. */
export interface LegacyUser {
  uid: string;
  points: number;
  entries: { id: string; amount: number; at: string; note?: string }[];
}

/** Lines of a Reckon-format export (docs/import-format.md), each user's wallet line first. */
export function reckonLines(users: readonly LegacyUser[]): string[] {
  return users.flatMap((user) => [
    JSON.stringify({ type: "wallet", uid: user.uid, points: user.points }),
    ...user.entries.map((entry) =>
      JSON.stringify({ type: "entry", uid: user.uid, id: entry.id, amount: entry.amount, at: entry.at, ...(entry.note ? { note: entry.note } : {}) }),
    ),
  ]);
}

const ROOT = "projects/legacy-app/databases/(default)/documents";

/** Lines of a Firestore-shaped export: documents as the REST API gives them, in path order. */
export function firestoreLines(users: readonly LegacyUser[]): string[] {
  return users.flatMap((user) => [
    JSON.stringify({ name: `${ROOT}/wallets/${user.uid}`, fields: { points: { integerValue: String(user.points) }, plan: { stringValue: "free" } } }),
    ...user.entries.map((entry) =>
      JSON.stringify({
        name: `${ROOT}/wallets/${user.uid}/ledger/${entry.id}`,
        fields: {
          amount: { integerValue: String(entry.amount) },
          createdAt: { timestampValue: entry.at },
          ...(entry.note ? { note: { stringValue: entry.note } } : {}),
        },
        createTime: "2026-01-01T00:00:00.000000Z",
      }),
    ),
  ]);
}

/** A temporary folder for export files, removed by `remove()`. */
export function exportFolder(): { write(name: string, lines: readonly (string | Buffer)[]): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "reckon-import-"));
  return {
    write(name, lines) {
      const path = join(dir, name);
      writeFileSync(path, Buffer.concat(lines.map((line) => Buffer.concat([typeof line === "string" ? Buffer.from(line) : line, Buffer.from("\n")]))));
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
