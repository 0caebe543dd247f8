/**
 * Bounded label values for metrics: whatever clients send, a label takes at most a fixed number
 * of distinct values, and everything past them (or not worth a series) collapses into `other`.
 * Pure apart from the set each bound remembers.
 */

/** The value every collapsed label takes. */
export const OTHER = "other";

/** A label that remembers the first `limit` distinct values it was given. */
export interface BoundedLabel {
  /** `value` when it is already known or there is room for it; otherwise {@linkcode OTHER}. */
  of(value: string): string;
  /** `value` when it is already known; otherwise {@linkcode OTHER} (nothing is added). */
  known(value: string): string;
  /** How many distinct values it holds. */
  readonly size: number;
}

/** A label with room for `limit` distinct values (besides `other`). */
export function boundedLabel(limit: number): BoundedLabel {
  const known = new Set<string>();
  return {
    of(value) {
      if (known.has(value)) return value;
      if (known.size >= limit) return OTHER;
      known.add(value);
      return value;
    },
    known: (value) => known.has(value) ? value : OTHER,
    get size() {
      return known.size;
    },
  };
}

/** The `code` label: an error code as our error table writes them (lower snake case), or `other`. */
export function codeLabel(code: string | undefined): string {
  if (code === undefined) return "";
  return /^[a-z][a-z0-9_]{0,47}$/.test(code) ? code : OTHER;
}

/** `2xx`, `4xx`, `5xx`: the status label. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/** The dialect a path speaks, as a label: `messages`, `responses` or `openai`. */
export function dialectLabel(endpoint: string): string {
  if (endpoint.startsWith("/v1/messages")) return "messages";
  if (endpoint.startsWith("/v1/responses")) return "responses";
  return "openai";
}

/**
 * How an upstream attempt ended, as metrics and traces name it: `success`, `error` (the provider
 * failed: retried elsewhere), `skipped` (the target cannot carry the request), `refused` (the
 * request itself was refused: answered now).
 */
export function attemptOutcome(
  outcome: { readonly ok: true } | { readonly ok: false; readonly next: "retry" | "skip" | "stop" },
): "success" | "error" | "skipped" | "refused" {
  return outcome.ok ? "success" : OUTCOMES[outcome.next];
}

const OUTCOMES = { retry: "error", skip: "skipped", stop: "refused" } as const;
