/** Zod schemas of OpenAI's wire format, as the gateway reads it back from an upstream. */
import { z } from "zod";

/** `{"error": {...}}`; every field optional, since compatible servers vary. */
export const OpenAIErrorBodySchema = z.looseObject({
  error: z.looseObject({
    message: z.string().nullish(),
    type: z.string().nullish(),
    param: z.string().nullish(),
    code: z.union([z.string(), z.number()]).nullish(),
  }),
});

/** Usage block of a response or final stream chunk. */
export const UsageSchema = z.looseObject({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  total_tokens: z.number(),
});

/** A non-stream `chat.completion` body. */
export const ChatCompletionSchema = z.looseObject({
  object: z.literal("chat.completion"),
  choices: z.array(z.unknown()),
  usage: UsageSchema.nullish(),
});

/** A stream chunk; an `error` key instead marks a mid-stream failure. */
export const ChunkSchema = z.union([
  z.looseObject({ error: z.looseObject({}) }),
  z.looseObject({ choices: z.array(z.unknown()), usage: UsageSchema.nullish() }),
]);

/** `GET /models` list body. */
export const ModelListSchema = z.looseObject({
  data: z.array(z.looseObject({ id: z.string() })),
});
