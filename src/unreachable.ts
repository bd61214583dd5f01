/**
 * The end of a `switch` that handled every member of a union: the compiler accepts the
 * call only where `value` has been narrowed to `never`, so a member added to the union
 * and forgotten in the switch fails the build. Reaching it at run time is a bug (a value
 * that bypassed the types), so it throws.
 */
export function unreachable(value: never, what: string): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
