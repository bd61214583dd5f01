import type { Operation } from "./operations.js";
import { paynowStory } from "./paynowStory.js";
import type { Random } from "./random.js";
import { stripeStory } from "./stripeStory.js";

/** Slots per epoch: every story, replay and reversal of an epoch stays inside it. */
const EPOCH_SLOTS = 150;

interface Placed {
  position: number;
  /** Ties keep generation order, so the schedule is a function of the seed alone. */
  order: number;
  make: (id: number) => Operation;
  /** Filled with the operation's id once placed; later operations refer to it. */
  ref: { id: number };
}

/**
 * The seeded workload, one epoch at a time. An epoch is a list of operations in send
 * order; references between operations (a replay, a reversal, a redelivery) always
 * point backwards within the epoch, so the driver can stop at an epoch's end.
 */
export class Workload {
  #nextId = 0;
  #epoch = 0;

  constructor(
    private readonly random: Random,
    private readonly users: string[],
  ) {}

  nextEpoch(): Operation[] {
    const random = this.random;
    const placed: Placed[] = [];
    let order = 0;
    const place = (position: number, make: (id: number) => Operation): { id: number } => {
      const ref = { id: -1 };
      placed.push({ position, order: order++, make, ref });
      return ref;
    };
    const epochTag = `${this.#epoch++}`;
    for (let slot = 0; slot < EPOCH_SLOTS; slot++) {
      const roll = random.next();
      const uid = random.pick(this.users);
      if (roll < 0.45) this.#story(place, slot, uid);
      else if (roll < 0.85) this.#spend(place, slot, uid, `${epochTag}-${slot}`);
      else if (roll < 0.93) this.#adjust(place, slot, uid, `${epochTag}-${slot}`);
      else if (roll < 0.96) place(slot, (id) => ({ kind: "drift", id, uid, points: random.pick([-1, 1]) * random.int(1, 20) }));
      // The rest of the slots are idle: other work (reconciliations, kills) fills them.
    }
    placed.sort((a, b) => a.position - b.position || a.order - b.order);
    const operations: Operation[] = [];
    for (const item of placed) {
      item.ref.id = this.#nextId++;
      operations.push(item.make(item.ref.id));
    }
    return operations;
  }

  #story(place: (position: number, make: (id: number) => Operation) => { id: number }, slot: number, uid: string): void {
    const random = this.random;
    const provider = random.chance(0.6) ? "paynow" : "stripe";
    // A quarter of follow-ups arrive before their purchase: they park and are released by it.
    const laterFollowUps = () => (random.chance(0.25) ? -random.int(1, 10) : random.int(1, 40));
    const events = provider === "paynow" ? paynowStory(random, uid, laterFollowUps) : stripeStory(random, uid, laterFollowUps);
    for (const event of events) {
      const position = Math.max(0, slot + event.offset + random.next());
      const original = place(position, (id) => ({ kind: "delivery", id, provider, eventId: event.eventId, body: event.body }));
      if (random.chance(0.12)) {
        const sameSignature = random.chance(0.4);
        place(position + random.int(0, 20) + 0.5, (id) => ({ kind: "delivery", id, provider, eventId: event.eventId, body: event.body, duplicateOf: original.id, sameSignature }));
      }
    }
  }

  #spend(place: (position: number, make: (id: number) => Operation) => { id: number }, slot: number, uid: string, tag: string): void {
    const random = this.random;
    const key = `spend-${tag}-${random.hex(8)}`;
    const amount = random.int(1, 40);
    const first = place(slot, (id) => ({ kind: "spend", id, uid, key, amount }));
    if (random.chance(0.15)) place(slot + random.int(1, 10) + 0.5, (id) => ({ kind: "spend", id, uid, key, amount, firstOf: first.id }));
    // The same key with another amount: the first answer stands, this one is 409.
    if (random.chance(0.05)) place(slot + random.int(1, 10) + 0.6, (id) => ({ kind: "spend", id, uid, key, amount: amount + 1, firstOf: first.id }));
  }

  #adjust(place: (position: number, make: (id: number) => Operation) => { id: number }, slot: number, uid: string, tag: string): void {
    const random = this.random;
    const amount = random.chance(0.8) ? random.int(1, 50) : -random.int(1, 10);
    const adjust = place(slot, (id) => ({ kind: "adjust", id, uid, key: `adjust-${tag}-${random.hex(8)}`, amount }));
    if (amount > 0 && random.chance(0.4)) {
      const key = `reverse-${tag}-${random.hex(8)}`;
      place(slot + random.int(1, 20) + 0.5, (id) => ({ kind: "reverse_adjustment", id, adjustOp: adjust.id, key }));
    }
  }
}
