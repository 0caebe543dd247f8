/** OpenAI SSE events → stream items, passing each chunk's JSON on verbatim. */
import { errors } from "../../errors.ts";
import type { SseEvent } from "../../sse.ts";
import type { Emit, StreamTranslator } from "../mod.ts";
import { fromOpenAIStreamError } from "./error.ts";

const NULL_USAGE_REGEXP = /"usage"\s*:\s*null\s*[,}]/;

/**
 * Classifies a chunk without parsing it. In JSON text, `"usage"` or `"error"` with bare quotes
 * can only be a key (inside a string value the quotes are escaped), so a chunk with neither, or
 * with only `"usage":null`, carries nothing the gateway must read: it is sent on byte for byte.
 * Everything else (usage numbers, errors) is parsed.
 */
function classify(data: string): "plain" | "null_usage" | "parse" {
  if (!data.startsWith("{") || !data.endsWith("}") || data.includes('"error"')) return "parse";
  if (!data.includes('"choices"')) return "parse";
  const usage = data.indexOf('"usage"');
  if (usage < 0) return "plain";
  const onlyOnce = data.indexOf('"usage"', usage + 1) < 0;
  return onlyOnce && NULL_USAGE_REGEXP.test(data.slice(usage)) ? "null_usage" : "parse";
}

/** Options of {@linkcode openAIStream}. */
export interface OpenAIStreamOptions {
  /**
   * Chunks for which this returns true are parsed (and emitted as `chunk` items) even when they
   * could be sent on byte for byte: a provider whose chunks sometimes need changing (Azure) uses
   * it to keep the fast path for all the others.
   */
  readonly mustParse?: ((data: string) => boolean) | undefined;
}

/** Parses OpenAI chunks; `[DONE]` ends the stream, an `error` object fails it. */
export function openAIStream(
  provider = "openai",
  options: OpenAIStreamOptions = {},
): StreamTranslator {
  const { mustParse } = options;
  return {
    event(event: SseEvent, emit: Emit) {
      if (event.data === "[DONE]") return emit({ type: "done" });
      const kind = event.event === undefined && mustParse?.(event.data) !== true
        ? classify(event.data)
        : "parse";
      if (kind !== "parse") {
        return emit({ type: "raw", raw: event.data, nullUsage: kind === "null_usage" });
      }
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        return emit({
          type: "error",
          error: errors.upstream(`${provider} sent a stream event that is not JSON`),
        });
      }
      if (typeof json !== "object" || json === null || Array.isArray(json)) {
        return emit({
          type: "error",
          error: errors.upstream(`${provider} sent a stream event that is not a chunk`),
        });
      }
      const chunk = json as Record<string, unknown>;
      // A chunk may carry `"error": null`; only an error object fails the stream.
      if (event.event === "error" || (typeof chunk.error === "object" && chunk.error !== null)) {
        return emit({ type: "error", error: fromOpenAIStreamError(json, provider) });
      }
      if (!Array.isArray(chunk.choices)) {
        return emit({
          type: "error",
          error: errors.upstream(`${provider} sent a stream event that is not a chunk`),
        });
      }
      emit({ type: "chunk", chunk, raw: event.data });
    },
    end() {},
  };
}
