/** Types for rules.js (plain JavaScript so secretlint loads it without a build). */
export interface ReckonRule {
  id: string;
  title: string;
  message: string;
  pattern: RegExp;
  secretGroup?: number;
  minEntropyBitsPerChar: number;
  placeholder: RegExp | null;
  lettersAndDigits?: boolean;
  keywords: string[];
}

export declare const RULES: ReckonRule[];
