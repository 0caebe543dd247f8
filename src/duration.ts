/**
 * Durations in settings and on the command line (`--since 7d`, `--expires-in 30d`, `--grace 24h`).
 */

const DURATION_REGEXP = /^(\d+)([smhd])$/;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Parses `<integer><s|m|h|d>` (also a bare `0`) into milliseconds.
 *
 * @example Usage
 * ```ts
 * parseDuration("7d"); // 604800000
 * parseDuration("1.5h"); // undefined
 * ```
 *
 * @returns The duration in milliseconds, or `undefined` when the text is not a duration or is too
 * large to represent exactly.
 */
export function parseDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const match = DURATION_REGEXP.exec(text);
  if (match === null) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return Number.isSafeInteger(ms) ? ms : undefined;
}
