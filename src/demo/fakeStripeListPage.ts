import type { DeliveryState, StripeListName, StripeRecord } from "./fakeStripeAccount.js";

/** Stripe's error body, with the HTTP status it is sent with. */
export interface StripeErrorAnswer {
  status: number;
  error: { type: string; code?: string; param?: string; message: string };
}

export interface StripeListAnswer {
  object: "list";
  data: StripeRecord[];
  has_more: boolean;
  url: string;
}

/** Filters each list accepts besides pagination (Stripe's API reference). */
const FILTERS: Record<StripeListName, readonly string[]> = {
  events: ["created", "type", "types", "delivery_success"],
  "checkout/sessions": ["created", "status", "payment_intent"],
  refunds: ["created", "charge", "payment_intent"],
  disputes: ["created", "charge", "payment_intent"],
};
const RANGE = ["gt", "gte", "lt", "lte"] as const;
const MAX_TYPES = 20;

const invalid = (message: string, param: string, code = "parameter_invalid"): StripeErrorAnswer => ({
  status: 400,
  error: { type: "invalid_request_error", code, param, message },
});

/** Query keys as Stripe's form encoding writes them: `created[gte]`, `types[0]` or `types[]`. */
function readQuery(query: URLSearchParams) {
  const scalars = new Map<string, string>();
  const ranges = new Map<string, string>();
  const arrays = new Map<string, string[]>();
  for (const [key, value] of query) {
    const nested = /^([a-z_]+)\[([a-z0-9_]*)\]$/.exec(key);
    if (!nested) scalars.set(key, value);
    else if (/^[0-9]*$/.test(nested[2]!)) arrays.set(nested[1]!, [...(arrays.get(nested[1]!) ?? []), value]);
    else ranges.set(`${nested[1]}.${nested[2]}`, value);
  }
  return { scalars, ranges, arrays };
}

const INTEGER = /^-?[0-9]{1,15}$/;

/** Keeps the records a `created` filter admits (exact integer, or any of gt/gte/lt/lte). */
function createdFilter(scalars: Map<string, string>, ranges: Map<string, string>): ((created: number) => boolean) | StripeErrorAnswer {
  const tests: ((created: number) => boolean)[] = [];
  const exact = scalars.get("created");
  if (exact !== undefined) {
    if (!INTEGER.test(exact)) return invalid("Invalid integer: " + exact, "created", "parameter_invalid_integer");
    tests.push((created) => created === Number(exact));
  }
  for (const [key, value] of ranges) {
    const [name, op] = key.split(".") as [string, string];
    if (name !== "created" || !(RANGE as readonly string[]).includes(op)) return invalid(`Received unknown parameter: ${name}[${op}]`, `${name}[${op}]`, "parameter_unknown");
    if (!INTEGER.test(value)) return invalid("Invalid integer: " + value, `created[${op}]`, "parameter_invalid_integer");
    const bound = Number(value);
    tests.push(
      op === "gt" ? (c) => c > bound : op === "gte" ? (c) => c >= bound : op === "lt" ? (c) => c < bound : (c) => c <= bound,
    );
  }
  return (created) => tests.every((test) => test(created));
}

/** `type` may end in `*` (`charge.dispute.*`); `types` lists exact names; never both. */
function typeFilter(scalars: Map<string, string>, arrays: Map<string, string[]>): ((type: string) => boolean) | StripeErrorAnswer {
  const type = scalars.get("type");
  const types = arrays.get("types") ?? (scalars.has("types") ? [scalars.get("types")!] : undefined);
  if (type !== undefined && types !== undefined) return invalid("You may only specify one of these parameters: type, types.", "types");
  if (types !== undefined) {
    if (types.length > MAX_TYPES) return invalid(`You may pass at most ${MAX_TYPES} types.`, "types");
    return (name) => types.includes(name);
  }
  if (type === undefined) return () => true;
  return type.endsWith("*") ? (name) => name.startsWith(type.slice(0, -1)) : (name) => name === type;
}

/**
 * One page of a list, Stripe's way: newest first, `limit` 1–100 (default 10),
 * `starting_after` (the page after an id) or `ending_before` (the page just before it),
 * and every filter the list knows; an unknown parameter is refused as Stripe refuses it.
 */
export function listPage(
  list: StripeListName,
  records: readonly StripeRecord[],
  query: URLSearchParams,
  deliveryState: (eventId: string) => DeliveryState | undefined,
  position: (id: string) => number | undefined,
): StripeListAnswer | StripeErrorAnswer {
  const { scalars, ranges, arrays } = readQuery(query);
  const known = new Set([...FILTERS[list], "limit", "starting_after", "ending_before"]);
  for (const key of [...scalars.keys(), ...arrays.keys(), ...[...ranges.keys()].map((key) => key.split(".")[0]!)]) {
    if (!known.has(key)) return invalid(`Received unknown parameter: ${key}`, key, "parameter_unknown");
  }
  const limitText = scalars.get("limit") ?? "10";
  if (!/^[0-9]{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 100) {
    return invalid("This value must be greater than or equal to 1 and less than or equal to 100.", "limit", "parameter_invalid_integer");
  }
  const limit = Number(limitText);
  const created = createdFilter(scalars, ranges);
  if (typeof created !== "function") return created;
  const type = typeFilter(scalars, arrays);
  if (typeof type !== "function") return type;
  const delivery = scalars.get("delivery_success");
  if (delivery !== undefined && delivery !== "true" && delivery !== "false") return invalid("Invalid boolean: " + delivery, "delivery_success", "parameter_invalid_boolean");

  const equals = (field: string) => (record: StripeRecord) => !scalars.has(field) || record[field] === scalars.get(field);
  const admits = (record: StripeRecord) =>
    created(record.created) &&
    (list !== "events" || type(record["type"] as string)) &&
    (delivery === undefined || (deliveryState(record.id) === "succeeded") === (delivery === "true")) &&
    equals("status")(record) &&
    equals("charge")(record) &&
    equals("payment_intent")(record);
  const startingAfter = scalars.get("starting_after");
  const endingBefore = scalars.get("ending_before");
  if (startingAfter !== undefined && endingBefore !== undefined) return invalid("You may only specify one of these parameters: ending_before, starting_after.", "ending_before");
  const cursor = startingAfter ?? endingBefore;
  const at = cursor === undefined ? records.length : position(cursor);
  if (at === undefined) {
    const param = startingAfter !== undefined ? "starting_after" : "ending_before";
    return { status: 400, error: { type: "invalid_request_error", code: "resource_missing", param, message: `No such object: '${cursor}'` } };
  }
  // Newest first is the reverse of recording order (records of one second keep theirs):
  // a page after the cursor walks towards older records, a page before it towards newer.
  const step = endingBefore !== undefined ? 1 : -1;
  const found: StripeRecord[] = [];
  for (let index = at + step; index >= 0 && index < records.length && found.length <= limit; index += step) {
    if (admits(records[index]!)) found.push(records[index]!);
  }
  const hasMore = found.length > limit;
  const page = found.slice(0, limit);
  const data = endingBefore !== undefined ? page.reverse() : page;
  return { object: "list", data: structuredClone(data), has_more: hasMore, url: `/v1/${list}` };
}
