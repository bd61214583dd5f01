import type { ReckonRule } from "./rules.js";

/** Types for findSecrets.js: the [start, end) range of each secret `rule` finds. */
export declare function findSecrets(rule: ReckonRule, content: string): [number, number][];
