import fc from "fast-check";
import { expect, it } from "vitest";
import { describeEachEngine } from "../../test/support/testDatabase.js";
import type { Db } from "../storage/openDatabase.js";
import { withTransaction, type Trx } from "../storage/withTransaction.js";
import type { BelowZeroPolicy } from "./entryRules.js";
import { postEntries, type BatchEntryInput } from "./postEntries.js";
import { postEntry } from "./postEntry.js";
import { MAX_BALANCE_POINTS } from "./balanceRange.js";
import type { EntryKind } from "./types.js";

const TIMES = [new Date("2026-03-01T12:00:00.000Z"), new Date("2026-03-01T12:00:01.500Z")];

interface Draft {
  user: number;
  kind: EntryKind;
  amount: number;
  key: number;
  belowZero: BelowZeroPolicy | null;
  time: number;
  /** Repeat an earlier draft exactly (a duplicate), when there is one. */
  repeat: number | null;
}

const amountOf = (kind: EntryKind, size: number, negative: boolean) =>
  kind === "purchase" ? size : kind === "spend" ? -size : negative ? -size : size;

const draft: fc.Arbitrary<Draft> = fc
  .record({
    user: fc.nat(2),
    kind: fc.constantFrom<EntryKind>("purchase", "spend", "admin_adjustment", "reconcile_adjustment"),
    size: fc.integer({ min: 1, max: 500 }),
    negative: fc.boolean(),
    key: fc.nat(7),
    belowZero: fc.option(fc.constantFrom<BelowZeroPolicy>("refuse", "allow", "clamp"), { nil: null }),
    time: fc.nat(1),
    repeat: fc.option(fc.nat(20), { nil: null, freq: 3 }),
  })
  .map(({ size, negative, ...rest }) => ({ ...rest, amount: amountOf(rest.kind, size, negative) }));

/** Thrown to end a transaction after reading what it did: nothing of it is kept. */
class RolledBack {
  constructor(readonly value: unknown) {}
}

async function thenRollBack<T>(db: Db, work: (trx: Trx) => Promise<T>): Promise<T> {
  try {
    await db.kysely.transaction().execute(async (trx) => {
      throw new RolledBack(await work(trx));
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.value as T;
    throw error;
  }
  throw new Error("unreachable");
}

/** The namespace's wallets and entries; ids of entries this transaction wrote become their order. */
async function stateOf(trx: Trx, prefix: string, firstNewId: number) {
  // Seeded entries are written before either path runs and neither can change them.
  const entries = await trx
    .selectFrom("ledger_entries")
    .selectAll()
    .where("uid", "like", `${prefix}%`)
    .where("source", "<>", "seed")
    .orderBy("id")
    .execute();
  const newIds = new Map(entries.filter((row) => row.id >= firstNewId).map((row, index) => [row.id, `new#${index}`]));
  const name = (id: number) => newIds.get(id) ?? id;
  const wallets = await trx.selectFrom("wallets").selectAll().where("uid", "like", `${prefix}%`).orderBy("uid").execute();
  return { entries: entries.map((row) => ({ ...row, id: name(row.id) })), wallets, name };
}

/**
 * Where a user starts before the drafts run, near an end of the exact range so that the
 * batch's range decisions are exercised: `wallet_top` has a wallet and entries a little
 * under the bound; `tampered_top` such a wallet with no entries; `sum_top` and
 * `sum_bottom` an untouched wallet with heals summing a little inside ±bound.
 */
type Seed = "none" | "wallet_top" | "tampered_top" | "sum_top" | "sum_bottom";
const seed = fc.constantFrom<Seed>("none", "wallet_top", "tampered_top", "sum_top", "sum_bottom");
const BIG = 1_000_000_000_000;

/** Writes a seed directly, as the ledger would hold it after many of the largest entries. */
async function plant(db: Db, uid: string, seeded: Seed, gap: number): Promise<void> {
  if (seeded === "none") return;
  const near = MAX_BALANCE_POINTS - gap;
  const walletPoints = seeded === "wallet_top" || seeded === "tampered_top" ? near : 0;
  const at = TIMES[0]!.toISOString();
  await db.kysely.insertInto("wallets").values({ uid, points: walletPoints, version: 1, created_at: at, updated_at: at }).execute();
  if (seeded === "tampered_top") return;
  const sign = seeded === "sum_bottom" ? -1 : 1;
  const amounts = [...Array<number>(Math.floor(near / BIG)).fill(BIG), near % BIG].filter((amount) => amount > 0);
  const rows = amounts.map((amount, index) => ({
    uid,
    amount: sign * amount,
    kind: seeded === "wallet_top" ? ("purchase" as const) : ("reconcile_adjustment" as const),
    idempotency_key: `${uid}-seed-${index}`,
    balance_after: walletPoints,
    source: "seed",
    content_hash: "seed",
    created_at: at,
  }));
  await db.kysely.insertInto("ledger_entries").values(rows).execute();
}

let run = 0;

async function sameAsOneByOne(db: Db, before: Draft[], batch: Draft[], seeds: Seed[] = [], gap = 0): Promise<void> {
  run++;
  const prefix = `pe_${run}_`;
  for (const [user, seeded] of seeds.entries()) await plant(db, `${prefix}${user}`, seeded, gap);
  const resolve = (drafts: Draft[], earlier: Draft[]) =>
    drafts.map((item, index) => {
      const pool = [...earlier, ...drafts.slice(0, index)];
      return item.repeat !== null && pool.length > 0 ? pool[item.repeat % pool.length]! : item;
    });
  const toInput = (item: Draft): BatchEntryInput => ({
    uid: `${prefix}${item.user}`,
    kind: item.kind,
    amount: item.amount,
    idempotencyKey: `${prefix}k${item.key}`,
    source: "test",
    ...(item.belowZero ? { belowZero: item.belowZero } : {}),
    now: TIMES[item.time]!,
  });
  const existing = resolve(before, []);
  for (const item of existing) await withTransaction(db, (trx) => postEntry(trx, toInput(item)));
  const inputs = resolve(batch, existing).map(toInput);
  const top = await db.kysely.selectFrom("ledger_entries").select((eb) => eb.fn.max("id").as("max")).executeTakeFirstOrThrow();
  const firstNewId = Number(top.max ?? 0) + 1;

  const observe = async (trx: Trx, outcomes: unknown[]) => {
    const state = await stateOf(trx, prefix, firstNewId);
    // Entry ids in outcomes named the same way as in the tables.
    const named = JSON.parse(JSON.stringify(outcomes), (key, value) => (key === "id" && typeof value === "number" ? state.name(value) : value));
    return { outcomes: named, entries: state.entries, wallets: state.wallets };
  };
  const oneByOne = await thenRollBack(db, async (trx) => {
    const outcomes = [];
    for (const input of inputs) outcomes.push(await postEntry(trx, input));
    return observe(trx, outcomes);
  });
  const together = await thenRollBack(db, async (trx) => observe(trx, await postEntries(trx, inputs)));
  expect(together).toEqual(oneByOne);
}

describeEachEngine("postEntries equals postEntry one after another", (db) => {
  it("gives every entry the same outcome and leaves the same wallets and entries", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(draft, { maxLength: 6 }), fc.array(draft, { minLength: 1, maxLength: 12 }), (before, batch) =>
        sameAsOneByOne(db(), before, batch),
      ),
      { numRuns: 60 },
    );
  });

  it("refuses the same entries as out of range near either end of the exact range", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(draft, { maxLength: 3 }),
        fc.array(draft, { minLength: 1, maxLength: 12 }),
        fc.array(seed, { minLength: 3, maxLength: 3 }),
        fc.nat(800),
        (before, batch, seeds, gap) => sameAsOneByOne(db(), before, batch, seeds, gap),
      ),
      // Each run writes thousands of seed rows: a failure is reported as found, not shrunk.
      { numRuns: 30, endOnFailure: true },
    );
  });
});
