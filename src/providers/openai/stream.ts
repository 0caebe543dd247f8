/** OpenAI SSE events → stream items, passing each chunk's JSON on verbatim. */
import { errors } from "../../errors.ts";
import type { SseEvent } from "../../sse.ts";
import type { Emit, StreamTranslator } from "../mod.ts";
import { fromOpenAIStreamError } from "./error.ts";

/** Parses OpenAI chunks; `[DONE]` ends the stream, an `error` object fails it. */
export function openAIStream(provider = "openai"): StreamTranslator {
  return {
    event(event: SseEvent, emit: Emit) {
      if (event.data === "[DONE]") return emit({ type: "done" });
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
