/**
 * `POST /v1/embeddings`: the request the gateway accepts and the list it answers with (OpenAI's
 * shapes). Unknown request fields are kept and passed on to OpenAI-format upstreams.
 */
import { z } from "zod";
import { type Parsed, parseRequestBody } from "../openai/schema.ts";
import { estimateTokens } from "../tokens/mod.ts";

/** `POST /v1/embeddings` request body, validated. */
export interface EmbeddingsRequest {
  readonly model: string;
  /** One text, several texts, one token array, or several token arrays. */
  readonly input: string | readonly string[] | readonly number[] | readonly (readonly number[])[];
  readonly dimensions?: number | undefined;
  readonly encoding_format?: "float" | "base64" | undefined;
  readonly user?: string | undefined;
  readonly [key: string]: unknown;
}

/** What a translation back needs besides the provider's body. */
export interface EmbeddingsContext {
  /** The model name the client sent. */
  readonly model: string;
  readonly encodingFormat: "float" | "base64";
  /** Estimated tokens of the input, for providers that report no usage. */
  readonly estimatedTokens: number;
  /** How many embeddings the answer must hold: one per input text or token array. */
  readonly inputCount: number;
}

/** One embedding of the answer. */
export interface EmbeddingObject {
  readonly object: "embedding";
  readonly index: number;
  /** Floats, or base64 of little-endian float32 when `encoding_format` is `base64`. */
  readonly embedding: readonly number[] | string;
}

/** OpenAI's embeddings list. */
export interface EmbeddingsResponse {
  readonly object: "list";
  readonly data: readonly EmbeddingObject[];
  readonly model: string;
  readonly usage: { readonly prompt_tokens: number; readonly total_tokens: number };
}

/** OpenAI's limit on the number of texts or token arrays in one request. */
export const MAX_EMBEDDING_INPUTS = 2048;

type Input = EmbeddingsRequest["input"];
type Issue = { readonly path: readonly number[]; readonly message: string };

const INPUT_SHAPES = "must be a string, an array of strings, an array of token ids " +
  "or an array of token arrays";
const TOKEN_ID = "must be a non-negative integer token id";

function isTokenId(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** The first problem of a token-id array, its path relative to the array. */
function tokenArrayIssue(tokens: readonly unknown[]): Issue | undefined {
  if (tokens.length === 0) return { path: [], message: "must not be empty" };
  const bad = tokens.findIndex((token) => !isTokenId(token));
  return bad === -1 ? undefined : { path: [bad], message: TOKEN_ID };
}

/** The first problem of `input`, by OpenAI's rules; the array's first item decides its kind. */
function inputIssue(input: unknown): Issue | undefined {
  if (input === undefined) return { path: [], message: "is required" };
  if (typeof input === "string") {
    return input === "" ? { path: [], message: "must not be empty" } : undefined;
  }
  if (!Array.isArray(input)) return { path: [], message: INPUT_SHAPES };
  if (input.length === 0) return { path: [], message: "must not be empty" };
  const first: unknown = input[0];
  if (typeof first === "number") return tokenArrayIssue(input);
  if (input.length > MAX_EMBEDDING_INPUTS) {
    return { path: [], message: `must have at most ${MAX_EMBEDDING_INPUTS} items` };
  }
  if (typeof first === "string") {
    for (const [index, item] of input.entries()) {
      if (typeof item !== "string") return { path: [index], message: "must be a string" };
      if (item === "") return { path: [index], message: "must not be empty" };
    }
    return undefined;
  }
  if (!Array.isArray(first)) return { path: [0], message: INPUT_SHAPES };
  for (const [index, item] of input.entries()) {
    if (!Array.isArray(item)) {
      return { path: [index], message: "must be an array of token ids" };
    }
    const issue = tokenArrayIssue(item);
    if (issue !== undefined) return { path: [index, ...issue.path], message: issue.message };
  }
  return undefined;
}

/** `POST /v1/embeddings` request body (unknown fields kept). */
export const EmbeddingsRequestSchema = z.looseObject({
  model: z.string({ error: "is required and must be a string" }).min(1, "must not be empty"),
  input: z.custom<Input>().superRefine((input, ctx) => {
    const issue = inputIssue(input);
    if (issue !== undefined) {
      ctx.addIssue({ code: "custom", path: [...issue.path], message: issue.message });
    }
  }),
  // null means "not set", as OpenAI treats it.
  dimensions: z
    .int({ error: "must be a positive integer" })
    .min(1, "must be a positive integer")
    .nullable()
    .optional()
    .transform((value) => value ?? undefined),
  encoding_format: z.enum(["float", "base64"], { error: "must be one of float, base64" })
    .optional(),
  user: z.string({ error: "must be a string" }).optional(),
});

/**
 * Validates an embeddings request body, or returns a 400 naming the first bad field
 * (`input[3]`, `input[1][0]`, `dimensions`).
 *
 * @example Usage
 * ```ts
 * import { parseEmbeddingsRequest } from "./schema.ts";
 * const result = parseEmbeddingsRequest({ model: "text-embedding-3-small", input: ["a", ""] });
 * // result.ok === false; result.error.param === "input[1]"
 * ```
 */
export function parseEmbeddingsRequest(body: unknown): Parsed<EmbeddingsRequest> {
  return parseRequestBody<EmbeddingsRequest>(EmbeddingsRequestSchema, body);
}

/**
 * The request's inputs one by one: each text, or each token array (a single token array is one
 * input).
 */
export function embeddingInputs(request: EmbeddingsRequest): (string | readonly number[])[] {
  const input = request.input;
  if (typeof input === "string") return [input];
  if (input.length === 0 || typeof input[0] === "number") return [input as readonly number[]];
  return [...(input as readonly (string | readonly number[])[])];
}

/** The request's texts, or undefined when its input is token ids. */
export function embeddingInputTexts(request: EmbeddingsRequest): string[] | undefined {
  const inputs = embeddingInputs(request);
  return inputs.every((item) => typeof item === "string") ? inputs as string[] : undefined;
}

/** Estimated input tokens: each text's token estimate, or the number of token ids. */
export function estimateEmbeddingTokens(request: EmbeddingsRequest): number {
  let total = 0;
  for (const item of embeddingInputs(request)) {
    total += typeof item === "string" ? estimateTokens(item) : item.length;
  }
  return total;
}

/** The translation context of a validated request. */
export function createEmbeddingsContext(request: EmbeddingsRequest): EmbeddingsContext {
  return {
    model: request.model,
    encodingFormat: request.encoding_format ?? "float",
    estimatedTokens: estimateEmbeddingTokens(request),
    inputCount: embeddingInputs(request).length,
  };
}
