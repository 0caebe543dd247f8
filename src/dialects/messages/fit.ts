/**
 * The canonical request of a Messages request, fitted to the provider of one target: what the
 * translation put in for some providers only is kept where it is taken and otherwise removed and
 * named in `x-choreoai-adjusted`. Pure.
 *
 * | field | kept for | removed (adjusted) for |
 * | --- | --- | --- |
 * | `top_k` | Gemini (`topK`), OpenAI-compatible servers of the routing file (vLLM, llama.cpp, … take `top_k`) | OpenAI and Azure, which refuse it |
 * | `reasoning_effort` (from `thinking` or `output_config.effort`) | OpenAI and Azure reasoning models (`o1`…, `o3`…, `o4`…, `gpt-5`…, by the upstream name), OpenAI-compatible servers, Gemini (the adapter maps it to `thinkingConfig`) | other OpenAI and Azure models (`gpt-4o` refuses it) |
 */
import type { ChatCompletionRequest } from "../../openai/schema.ts";
import type { ProviderKind } from "../../providers/registry.ts";

/** The provider a request is fitted to. */
export interface FitTarget {
  /** The provider's name (`openai` is OpenAI itself; a routing file's names are other servers). */
  readonly providerName: string;
  readonly kind: ProviderKind;
  /** The model (or Azure deployment) name the provider knows. */
  readonly model: string;
}

/** What set `reasoning_effort` in the Messages request, to name it when it is removed. */
export type ReasoningSource = "thinking" | "output_config.effort";

/** A request fitted to a provider, and the Messages fields it no longer carries. */
export interface Fitted {
  readonly chat: ChatCompletionRequest;
  readonly adjusted: readonly string[];
}

const REASONING_MODEL_REGEXP = /^(o\d|gpt-5)/i;

/** OpenAI itself, or Azure OpenAI: servers that refuse fields they do not know. */
function isOpenAIService(target: FitTarget): boolean {
  return target.kind === "azure" || (target.kind === "openai-compatible" &&
    target.providerName === "openai");
}

function takesTopK(target: FitTarget): boolean {
  return target.kind === "gemini" ||
    (target.kind === "openai-compatible" && target.providerName !== "openai");
}

function takesReasoning(target: FitTarget): boolean {
  return !isOpenAIService(target) || REASONING_MODEL_REGEXP.test(target.model);
}

/**
 * Fits `chat` to `target` (see the table above); `chat` itself is not changed.
 *
 * @example Usage
 * ```ts
 * import { fitToProvider } from "./fit.ts";
 * const fitted = fitToProvider(
 *   { model: "m", messages: [], top_k: 5, reasoning_effort: "low" },
 *   { providerName: "openai", kind: "openai-compatible", model: "gpt-4o" },
 *   "thinking",
 * );
 * // fitted.adjusted: ["top_k", "thinking"]; neither field is in fitted.chat
 * ```
 */
export function fitToProvider(
  chat: ChatCompletionRequest,
  target: FitTarget,
  reasoningSource: ReasoningSource = "thinking",
): Fitted {
  const dropTopK = chat.top_k !== undefined && !takesTopK(target);
  const dropReasoning = chat.reasoning_effort !== undefined && !takesReasoning(target);
  if (!dropTopK && !dropReasoning) return { chat, adjusted: [] };
  const fitted: ChatCompletionRequest = { ...chat };
  const adjusted: string[] = [];
  if (dropTopK) {
    delete fitted.top_k;
    adjusted.push("top_k");
  }
  if (dropReasoning) {
    delete fitted.reasoning_effort;
    adjusted.push(reasoningSource);
  }
  return { chat: fitted, adjusted };
}
