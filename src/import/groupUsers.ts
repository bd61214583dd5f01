import type { LineProblem, ParsedLine, UserGroup } from "./LegacyRecord.js";

export type GroupEvent = { kind: "group"; group: UserGroup } | { kind: "unattributed"; problem: LineProblem };

/**
 * Gathers an export's lines into users, one user at a time, so memory holds one user's
 * history however long the file. A user's lines must sit together, wallet line first
 * (a path-ordered Firestore export does this by itself). A line that cannot be read
 * well enough to name its user is charged to the user it sits in; had it been the next
 * user's wallet line, that user's entries arrive with no wallet line and are refused too,
 * so a user touched by a bad line is never imported in part.
 */
export class UserGrouper {
  private current: UserGroup | null = null;
  private currentIds = new Set<string>();
  /** Every user already closed, so a user whose lines reappear later is caught. */
  private readonly seen = new Map<string, number>();

  push(line: number, parsed: ParsedLine): GroupEvent[] {
    const events: GroupEvent[] = [];
    if (!parsed.ok && parsed.uid === null) {
      const problem = { line, code: parsed.code, problem: parsed.problem };
      if (this.current) this.current.problems.push(problem);
      else events.push({ kind: "unattributed", problem });
      return events;
    }
    const uid = parsed.ok ? parsed.record.uid : parsed.uid!;
    const startsUser = parsed.ok && parsed.record.type === "wallet";
    if (!this.current || this.current.uid !== uid || startsUser) {
      if (this.current) events.push({ kind: "group", group: this.close() });
      this.open(uid, line, parsed);
    }
    const group = this.current!;
    if (!parsed.ok) {
      group.problems.push({ line, code: parsed.code, problem: parsed.problem });
    } else if (parsed.record.type === "entry") {
      const { id, amount, at, note } = parsed.record;
      if (this.currentIds.has(id)) group.problems.push({ line, code: "duplicate_entry_id", problem: `entry id ${JSON.stringify(id)} appears twice for this user` });
      this.currentIds.add(id);
      group.entries.push({ line, id, amount, at, note });
    }
    return events;
  }

  end(): GroupEvent[] {
    return this.current ? [{ kind: "group", group: this.close() }] : [];
  }

  private open(uid: string, line: number, parsed: ParsedLine): void {
    const isWallet = parsed.ok && parsed.record.type === "wallet";
    const group: UserGroup = { uid, line, points: isWallet && parsed.record.type === "wallet" ? parsed.record.points : null, entries: [], problems: [] };
    const earlier = this.seen.get(uid);
    if (earlier !== undefined) {
      group.problems.push({ line, code: "user_repeated", problem: `this user's lines already appeared from line ${earlier}; a user's lines must sit together` });
    } else if (!isWallet && parsed.ok) {
      group.problems.push({ line, code: "no_wallet_line", problem: "entries with no wallet line before them; a user's wallet line comes first" });
    }
    this.current = group;
    this.currentIds = new Set();
  }

  private close(): UserGroup {
    const group = this.current!;
    if (!this.seen.has(group.uid)) this.seen.set(group.uid, group.line);
    this.current = null;
    return group;
  }
}
