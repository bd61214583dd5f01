/**
 * The entries that reference a purchase form a tree: reversals reference the purchase or a
 * reinstatement, reinstatements reference a reversal. Each entry's *open* amount is its
 * own amount plus the amounts of the entries that reference it; the ledger lets a new
 * entry take an entry's open amount back to zero, never past it.
 *
 * Every entry belongs to one side. Entries posted by webhooks are the webhook side, and so
 * is anything an admin posts against them (restoring part of a webhook reversal is an early
 * restoration, which a won chargeback then does not repeat). An admin's reversal of the
 * purchase itself, and what is posted against it, is the manual side: webhooks leave it alone.
 */

/** An entry below a purchase entry, reached through `reverses_entry_id`. */
export interface TreeEntry {
  id: number;
  amount: number;
  source: string;
  reversesEntryId: number;
}

export interface PurchaseTree {
  purchaseEntryId: number;
  points: number;
  /** Every entry below the purchase, in id order (an entry always comes after what it references). */
  entries: readonly TreeEntry[];
}

export interface TreeMeasure {
  /** Points the webhook side holds reversed, net of everything that restored them. */
  webhookReversed: number;
  /** Points an admin reversed from the purchase itself, net of their restorations. */
  manualReversed: number;
}

/** One entry to post: a `reversal` (negative) of a positive entry, or a `reinstatement` (positive) of a reversal. */
export interface PlannedEntry {
  kind: "reversal" | "reinstatement";
  amount: number;
  reversesEntryId: number;
}

interface Node {
  id: number;
  amount: number;
  open: number;
  side: "purchase" | "webhook" | "manual";
}

function nodesOf(tree: PurchaseTree): Node[] {
  const byId = new Map<number, Node>();
  const root: Node = { id: tree.purchaseEntryId, amount: tree.points, open: tree.points, side: "purchase" };
  byId.set(root.id, root);
  for (const entry of tree.entries) {
    const parent = byId.get(entry.reversesEntryId);
    if (!parent) throw new Error(`entry ${entry.id} references ${entry.reversesEntryId}, which is not in the purchase's tree`);
    const side = entry.source === "webhook" ? "webhook" : parent.side === "purchase" ? "manual" : parent.side;
    byId.set(entry.id, { id: entry.id, amount: entry.amount, open: entry.amount, side });
    parent.open += entry.amount;
  }
  return [...byId.values()];
}

export function measureTree(tree: PurchaseTree): TreeMeasure {
  let webhookReversed = 0;
  let manualReversed = 0;
  for (const node of nodesOf(tree)) {
    if (node.side === "webhook") webhookReversed -= node.amount;
    if (node.side === "manual") manualReversed -= node.amount;
  }
  return { webhookReversed, manualReversed };
}

/**
 * Entries that reverse `points` more of the purchase (`points` > 0) or restore `-points`
 * of what the webhook side reversed (`points` < 0). Reversals take from the purchase
 * first, then from the newest reinstatements; restorations reinstate the newest webhook
 * reversals first. The caller asks for no more than the tree holds, so running short is a bug.
 */
export function planReversal(tree: PurchaseTree, points: number): PlannedEntry[] {
  const nodes = nodesOf(tree);
  const [root, ...below] = nodes;
  const newestFirst = below.reverse();
  const candidates =
    points > 0
      ? [root!, ...newestFirst].filter((node) => node.open > 0)
      : newestFirst.filter((node) => node.side === "webhook" && node.open < 0);
  const planned: PlannedEntry[] = [];
  let left = Math.abs(points);
  for (const node of candidates) {
    if (left === 0) break;
    const take = Math.min(left, Math.abs(node.open));
    planned.push({ kind: points > 0 ? "reversal" : "reinstatement", amount: points > 0 ? -take : take, reversesEntryId: node.id });
    left -= take;
  }
  if (left > 0) throw new Error(`the purchase tree of entry ${tree.purchaseEntryId} cannot move ${points} points (${left} short)`);
  return planned;
}
