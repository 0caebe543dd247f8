/**
 * Finish reasons (`stop`, `length`, `tool_calls`, `content_filter`, …) read from OpenAI chat
 * answers and chunks, for access logs and traces. Pure.
 */
import { asRecord } from "../json.ts";

/**
 * The `finish_reason` of each choice that has one, in order; undefined when none has.
 *
 * @example Usage
 * ```ts
 * import { choiceFinishReasons } from "./finish_reasons.ts";
 * choiceFinishReasons([{ index: 0, finish_reason: "stop" }]); // ["stop"]
 * choiceFinishReasons([{ index: 0, finish_reason: null }]); // undefined
 * ```
 */
export function choiceFinishReasons(choices: unknown): string[] | undefined {
  if (!Array.isArray(choices)) return undefined;
  let reasons: string[] | undefined;
  for (const choice of choices) {
    const reason = asRecord(choice)?.finish_reason;
    if (typeof reason === "string") (reasons ??= []).push(reason);
  }
  return reasons;
}

/**
 * Searched for instead of the whole key: V8 finds a needle that starts with a quote (frequent in
 * JSON) several times slower than one that starts with a rarer character.
 */
const TAIL = '_reason"';
const HEAD = '"finish';

/**
 * The first non-null `finish_reason` in a chunk's JSON text, found without parsing it (a stream
 * chunk passed on byte for byte); undefined when its value is null or it has none. In JSON text,
 * `"finish_reason"` with bare quotes followed by a colon can only be a key: inside a string the
 * quotes are escaped.
 *
 * @example Usage
 * ```ts
 * import { scanFinishReason } from "./finish_reasons.ts";
 * scanFinishReason('{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}'); // "stop"
 * scanFinishReason('{"choices":[{"index":0,"delta":{},"finish_reason":null}]}'); // undefined
 * ```
 */
export function scanFinishReason(json: string): string | undefined {
  let at = json.indexOf(TAIL);
  while (at >= 0) {
    let i = skipSpace(json, at + TAIL.length);
    if (json.startsWith(HEAD, at - HEAD.length) && json.charCodeAt(i) === 58 /* : */) {
      i = skipSpace(json, i + 1);
      if (json.charCodeAt(i) !== 34 /* " */) return undefined;
      const end = json.indexOf('"', i + 1);
      if (end < 0) return undefined;
      const reason = json.slice(i + 1, end);
      // A reason with escapes (no provider sends one) is left out rather than misread.
      return reason.includes("\\") ? undefined : reason;
    }
    at = json.indexOf(TAIL, at + TAIL.length);
  }
  return undefined;
}

function skipSpace(text: string, from: number): number {
  let i = from;
  for (let c = text.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13;) {
    c = text.charCodeAt(++i);
  }
  return i;
}
