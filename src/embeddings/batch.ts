/**
 * Requests with more inputs than a provider takes at once (Gemini: 100) are split into batches
 * and the answers joined, so a client can send what OpenAI accepts (2,048 inputs) to any provider.
 * Pure.
 */
import type { EmbeddingsRequest, EmbeddingsResponse } from "./schema.ts";

/** Splits `request` into requests of at most `max` inputs each, in order (one when it fits). */
export function splitEmbeddingsRequest(
  request: EmbeddingsRequest,
  max: number,
): EmbeddingsRequest[] {
  const { input } = request;
  // A string, or one array of token ids, is one input.
  if (!Array.isArray(input) || typeof input[0] === "number" || input.length <= max) {
    return [request];
  }
  const parts: EmbeddingsRequest[] = [];
  for (let start = 0; start < input.length; start += max) {
    parts.push({ ...request, input: input.slice(start, start + max) });
  }
  return parts;
}

/** Joins the answers of split requests: indexes continue, usage adds up. */
export function joinEmbeddings(parts: readonly EmbeddingsResponse[]): EmbeddingsResponse {
  const [first] = parts;
  if (first === undefined) throw new Error("joinEmbeddings needs at least one answer");
  if (parts.length === 1) return first;
  let offset = 0;
  let prompt = 0;
  let total = 0;
  const data = parts.flatMap((part) => {
    const shifted = part.data.map((item) => ({ ...item, index: item.index + offset }));
    offset += part.data.length;
    prompt += part.usage.prompt_tokens;
    total += part.usage.total_tokens;
    return shifted;
  });
  return {
    object: "list",
    data,
    model: first.model,
    usage: { prompt_tokens: prompt, total_tokens: total },
  };
}
