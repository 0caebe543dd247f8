/** Small readers for JSON values of unknown shape (provider answers, client bodies). */

/**
 * The value as a JSON object (not an array, not null), or undefined.
 *
 * @example Usage
 * ```ts
 * import { asRecord } from "./json.ts";
 * asRecord({ a: 1 }); // { a: 1 }
 * asRecord([1]); // undefined
 * ```
 */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : undefined;
}

/**
 * The value as a count of tokens: a finite number ≥ 0, or undefined.
 *
 * @example Usage
 * ```ts
 * import { asCount } from "./json.ts";
 * asCount(12); // 12
 * asCount(-1); // undefined
 * ```
 */
export function asCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}
