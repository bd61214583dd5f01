import type { ImportFormat, LineProblem } from "../import/LegacyRecord.js";
import { LINE_PARSERS, MAX_LINE_BYTES } from "../import/importWallets.js";
import { readLines } from "../import/readLines.js";
import type { Db } from "../storage/openDatabase.js";
import { statementChunks } from "../storage/setBased.js";

export interface ShadowDifference {
  uid: string;
  difference: "missing_in_reckon" | "missing_in_legacy" | "different_points";
  /** Null where the side has no wallet. */
  legacyPoints: number | null;
  reckonPoints: number | null;
}

export interface ShadowComparison {
  /** `agree` only when there is no difference and every line was read. */
  outcome: "agree" | "differ";
  legacyWallets: number;
  reckonWallets: number;
  differences: ShadowDifference[];
  problems: (LineProblem & { uid: string | null })[];
}

export interface ShadowOptions {
  file: string;
  format: ImportFormat;
  now: Date;
}

const LOOKUP_USERS = 1_000;
const PAGE_USERS = 5_000;

/**
 * `reckon shadow compare`: while the old system still runs, sets its balances (the
 * wallet lines of an export in either import format; entry lines are passed over) beside
 * Reckon's. A wallet holding 0 and no wallet are the same balance; anything else on one
 * side only is missing on the other. Holds the legacy user ids in memory, nothing more.
 */
export async function compareShadow(db: Db, options: ShadowOptions): Promise<ShadowComparison> {
  const result: ShadowComparison = { outcome: "agree", legacyWallets: 0, reckonWallets: 0, differences: [], problems: [] };
  const legacy = new Set<string>();
  let pending: { uid: string; points: number }[] = [];
  const compare = async () => {
    for (const chunk of statementChunks(pending, 1)) {
      const rows = await db.kysely.selectFrom("wallets").select(["uid", "points"]).where("uid", "in", chunk.map((wallet) => wallet.uid)).execute();
      const reckon = new Map(rows.map((row) => [row.uid, row.points]));
      for (const wallet of chunk) {
        const points = reckon.get(wallet.uid);
        if (points === undefined) {
          if (wallet.points !== 0) result.differences.push({ uid: wallet.uid, difference: "missing_in_reckon", legacyPoints: wallet.points, reckonPoints: null });
        } else if (points !== wallet.points) {
          result.differences.push({ uid: wallet.uid, difference: "different_points", legacyPoints: wallet.points, reckonPoints: points });
        }
      }
    }
    pending = [];
  };

  const parse = LINE_PARSERS[options.format];
  for await (const line of readLines(options.file, MAX_LINE_BYTES).lines) {
    if ("unreadable" in line) {
      result.problems.push({ line: line.number, uid: null, code: line.unreadable, problem: line.unreadable === "not_utf8" ? "not valid UTF-8" : "line too long" });
      continue;
    }
    const parsed = parse(line.text, options.now);
    if (!parsed.ok) {
      result.problems.push({ line: line.number, uid: parsed.uid, code: parsed.code, problem: parsed.problem });
      continue;
    }
    if (parsed.record.type !== "wallet") continue;
    const { uid, points } = parsed.record;
    if (legacy.has(uid)) {
      result.problems.push({ line: line.number, uid, code: "user_repeated", problem: "a second wallet line for this user" });
      continue;
    }
    legacy.add(uid);
    result.legacyWallets += 1;
    pending.push({ uid, points });
    if (pending.length >= LOOKUP_USERS) await compare();
  }
  await compare();

  // Reckon's side, a page at a time in user-id order: wallets the legacy export does not have.
  let after = "";
  for (;;) {
    const page = await db.kysely.selectFrom("wallets").select(["uid", "points"]).where("uid", ">", after).orderBy("uid").limit(PAGE_USERS).execute();
    if (page.length === 0) break;
    result.reckonWallets += page.length;
    for (const row of page) {
      if (!legacy.has(row.uid) && row.points !== 0) result.differences.push({ uid: row.uid, difference: "missing_in_legacy", legacyPoints: null, reckonPoints: row.points });
    }
    after = page[page.length - 1]!.uid;
  }
  result.differences.sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  if (result.differences.length > 0 || result.problems.length > 0) result.outcome = "differ";
  return result;
}
