/**
 * Reading the canonical answer (OpenAI's `chat.completion` and its stream items), shared by the
 * dialects that translate it into their own shape.
 */
import { errors, type GatewayError } from "../errors.ts";
import { asRecord } from "../json.ts";
import type { StreamItem } from "../providers/mod.ts";

/** The first choice of a `chat.completion` and its message. */
export interface FirstChoice {
  readonly choice: Record<string, unknown>;
  readonly message: Record<string, unknown>;
}

/**
 * The first choice and its message, or a 502 when the provider's answer has none.
 *
 * @example Usage
 * ```ts
 * import { firstChoice } from "./_canonical.ts";
 * const first = firstChoice({ choices: [{ message: { content: "Hi" }, finish_reason: "stop" }] });
 * // first.message.content === "Hi"
 * ```
 */
export function firstChoice(
  completion: Readonly<Record<string, unknown>>,
): FirstChoice | GatewayError {
  const choices = completion.choices;
  const choice = Array.isArray(choices) ? asRecord(choices[0]) : undefined;
  const message = asRecord(choice?.message);
  if (choice === undefined || message === undefined) {
    return errors.upstream("The provider returned an answer without a message");
  }
  return { choice, message };
}

/** What a dialect's stream writer does with each kind of canonical stream item. */
export interface StreamItemHandlers {
  chunk(chunk: Record<string, unknown>): void;
  end(): void;
  fail(error: GatewayError): void;
}

/**
 * Hands one canonical stream item to the writer's handler for its kind; a chunk passed on as raw
 * JSON text is parsed first, and one that is not a JSON object fails the stream (502).
 *
 * @example Usage
 * ```ts
 * import { dispatchStreamItem } from "./_canonical.ts";
 * const seen: string[] = [];
 * dispatchStreamItem({ type: "raw", raw: '{"choices":[]}', nullUsage: false }, {
 *   chunk: () => seen.push("chunk"),
 *   end: () => seen.push("end"),
 *   fail: () => seen.push("fail"),
 * });
 * // seen: ["chunk"]
 * ```
 */
export function dispatchStreamItem(item: StreamItem, handlers: StreamItemHandlers): void {
  switch (item.type) {
    case "chunk":
      return handlers.chunk(item.chunk);
    case "raw": {
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = asRecord(JSON.parse(item.raw));
      } catch {
        parsed = undefined;
      }
      if (parsed === undefined) {
        return handlers.fail(errors.upstream("The provider sent a bad chunk"));
      }
      return handlers.chunk(parsed);
    }
    case "done":
      return handlers.end();
    case "error":
      return handlers.fail(item.error);
  }
}
