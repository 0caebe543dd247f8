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

/** `GET /models` list body. */
export const ModelListSchema = z.looseObject({
  data: z.array(z.looseObject({ id: z.string() })),
});
