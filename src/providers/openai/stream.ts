/** OpenAI SSE events → stream items, passing each chunk's JSON on verbatim. */
import { errors } from "../../errors.ts";
import type { SseEvent } from "../../sse.ts";
import type { StreamItem } from "../mod.ts";
import { fromOpenAIStreamError } from "./error.ts";
import { ChunkSchema } from "./wire.ts";

/** Parses OpenAI chunks; `[DONE]` ends the stream, an `error` object fails it. */
export function openAIStream(provider = "openai"): TransformStream<SseEvent, StreamItem> {
  return new TransformStream<SseEvent, StreamItem>({
    transform(event, controller) {
      if (event.data === "[DONE]") {
        controller.enqueue({ type: "done" });
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        controller.enqueue({
          type: "error",
          error: errors.upstream(`${provider} sent a stream event that is not JSON`),
        });
        return;
      }
      const chunk = ChunkSchema.safeParse(json);
      if (!chunk.success) {
        controller.enqueue({
          type: "error",
          error: errors.upstream(`${provider} sent a stream event that is not a chunk`),
        });
      } else if (event.event === "error" || isErrorObject(chunk.data.error)) {
        controller.enqueue({ type: "error", error: fromOpenAIStreamError(json, provider) });
      } else {
        controller.enqueue({ type: "chunk", chunk: chunk.data, raw: event.data });
      }
    },
  });
}

/** A mid-stream error is an `error` object; a chunk may carry `"error": null` harmlessly. */
function isErrorObject(value: unknown): boolean {
  return typeof value === "object" && value !== null;
}
