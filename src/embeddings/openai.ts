/**
 * Embeddings for OpenAI, OpenAI-compatible servers (vLLM, Ollama, LocalAI, …) and Azure OpenAI:
 * the client's body goes on with the upstream model name, and the answer comes back as OpenAI's
 * list, repaired where compatible servers differ (FACTS.md T1, T2).
 */
import { azureUrl } from "../providers/azure/request.ts";
import { z } from "zod";
import { errors, type GatewayError } from "../errors.ts";
import type { EmbeddingsAdapter, ProviderTarget } from "../providers/mod.ts";
import { base64ToFloats, floatsToBase64 } from "./encoding.ts";
import type {
  EmbeddingObject,
  EmbeddingsContext,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from "./schema.ts";
import { ProviderRequest } from "../http/provider_request.ts";

const EmbeddingListSchema = z.looseObject({
  data: z.array(
    z.looseObject({
      index: z.int().min(0),
      embedding: z.union([z.string(), z.array(z.number())]),
    }),
  ),
  model: z.unknown().optional(),
  usage: z.unknown().optional(),
});

const UsageSchema = z.looseObject({
  prompt_tokens: z.int().min(0),
  total_tokens: z.int().min(0),
});

function jsonRequest(url: string, headers: Record<string, string>, body: unknown): ProviderRequest {
  return new ProviderRequest(url, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json", "accept": "application/json" },
    body: JSON.stringify(body),
  });
}

/** The client's body, unknown fields included, with the upstream's model name. */
function upstreamBody(body: EmbeddingsRequest, target: ProviderTarget): Record<string, unknown> {
  return { ...body, model: target.model };
}

/** One upstream embedding in the format the client asked for, or undefined when undecodable. */
function inFormat(
  embedding: string | number[],
  format: EmbeddingsContext["encodingFormat"],
): readonly number[] | string | undefined {
  if (format === "base64") {
    return typeof embedding === "string" ? embedding : floatsToBase64(embedding);
  }
  if (typeof embedding !== "string") return embedding;
  try {
    return base64ToFloats(embedding);
  } catch {
    return undefined;
  }
}

/**
 * An OpenAI-format embeddings list → the gateway's answer: `data` sorted by `index`, each
 * embedding in the asked `encoding_format` (compatible servers may ignore it), usage estimated
 * when the server reports none (Ollama, some vLLM builds), the server's `model` when it names one.
 * A 502 when the body is not such a list or holds a different number of embeddings than inputs.
 */
export function fromOpenAIEmbeddings(
  body: unknown,
  ctx: EmbeddingsContext,
  provider: string,
): EmbeddingsResponse | GatewayError {
  const parsed = EmbeddingListSchema.safeParse(body);
  if (!parsed.success) {
    return errors.upstream(`${provider} answered with a body that is not an embeddings list`);
  }
  const list = parsed.data;
  if (list.data.length !== ctx.inputCount) {
    return errors.upstream(
      `${provider} answered with ${list.data.length} embeddings for ${ctx.inputCount} inputs`,
    );
  }
  const data: EmbeddingObject[] = [];
  for (const item of [...list.data].sort((a, b) => a.index - b.index)) {
    const embedding = inFormat(item.embedding, ctx.encodingFormat);
    if (embedding === undefined) {
      return errors.upstream(`${provider} answered with an embedding that is not valid base64`);
    }
    data.push({ object: "embedding", index: item.index, embedding });
  }
  const usage = UsageSchema.safeParse(list.usage);
  return {
    object: "list",
    data,
    model: typeof list.model === "string" ? list.model : ctx.model,
    usage: usage.success
      ? { prompt_tokens: usage.data.prompt_tokens, total_tokens: usage.data.total_tokens }
      : { prompt_tokens: ctx.estimatedTokens, total_tokens: ctx.estimatedTokens },
  };
}

/**
 * OpenAI or an OpenAI-compatible server: `POST {baseUrl}/embeddings` with
 * `Authorization: Bearer <apiKey>` (no header when the key is empty, for local servers).
 * `provider` names it in error messages.
 */
export function createOpenAIEmbeddings(provider = "openai"): EmbeddingsAdapter {
  return {
    toRequest(body, target) {
      const headers: Record<string, string> = target.apiKey === ""
        ? {}
        : { authorization: `Bearer ${target.apiKey}` };
      return jsonRequest(`${target.baseUrl}/embeddings`, headers, upstreamBody(body, target));
    },
    fromResponse: (body, ctx) => fromOpenAIEmbeddings(body, ctx, provider),
  };
}

/**
 * Azure OpenAI: `POST {endpoint}/openai/deployments/{deployment}/embeddings?api-version=…` with
 * the key in `api-key`, never in `Authorization` (T2). `target.model` is the deployment name.
 */
export function createAzureEmbeddings(provider = "azure"): EmbeddingsAdapter {
  return {
    toRequest: (body, target) =>
      jsonRequest(
        azureUrl(target, "embeddings"),
        { "api-key": target.apiKey },
        upstreamBody(body, target),
      ),
    fromResponse: (body, ctx) => fromOpenAIEmbeddings(body, ctx, provider),
  };
}

/** OpenAI's embeddings (the built-in `openai` provider). */
export const openAIEmbeddings: EmbeddingsAdapter = createOpenAIEmbeddings();

/** Azure OpenAI's embeddings (the built-in `azure` provider). */
export const azureEmbeddings: EmbeddingsAdapter = createAzureEmbeddings();
