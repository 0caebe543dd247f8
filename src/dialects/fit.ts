/**
 * The canonical request of a Messages or Responses request, fitted to the provider of one
 * target: what the dialect's translation put in for some providers only is kept where it is
 * taken and otherwise removed, and named in `x-choreoai-adjusted` by the client's own field name
 * when the answer may differ. Chat completions are not fitted: their client chose the fields.
 * Pure.
 *
 * | field | kept for | removed for |
 * | --- | --- | --- |
 * | `top_k` | Gemini (`topK`), OpenAI-compatible servers of the routing file (vLLM, llama.cpp, … take `top_k`) | OpenAI, Azure (they refuse it), Anthropic (named) |
 * | `reasoning_effort` | OpenAI and Azure reasoning models (`o1`…, `o3`…, `o4`…, `gpt-5`…, by the upstream name), OpenAI-compatible servers, Gemini (the adapter maps it to `thinkingConfig`) | other OpenAI and Azure models (`gpt-4o` refuses it), Anthropic (its adapter has no mapping) (named) |
 * | `verbosity` | OpenAI and Azure `gpt-5`… models | every other provider (named) |
 * | `prompt_cache_key` | OpenAI itself | every other provider (silently: a cache hint changes no answer) |
 */
import type { ChatCompletionRequest } from "../openai/schema.ts";
import type { ProviderKind } from "../providers/registry.ts";

/** The provider a request is fitted to. */
export interface FitTarget {
  /** The provider's name (`openai` is OpenAI itself; a routing file's names are other servers). */
  readonly providerName: string;
  readonly kind: ProviderKind;
  /** The model (or Azure deployment) name the provider knows. */
  readonly model: string;
}

/** The fields a fit may remove and name. */
export type FittedField = "top_k" | "reasoning_effort" | "verbosity";

/**
 * How the client's dialect names each fitted field in `x-choreoai-adjusted` (Messages:
 * `reasoning_effort` came from `thinking` or `output_config.effort`; Responses: from
 * `reasoning.effort`); a field without a name here is named as it is.
 */
export type FieldNames = Readonly<Partial<Record<FittedField, string>>>;

/** A request fitted to a provider, and the client's fields it no longer carries. */
export interface Fitted {
  readonly chat: ChatCompletionRequest;
  readonly adjusted: readonly string[];
}

const REASONING_MODEL_REGEXP = /^(o\d|gpt-5)/i;
const VERBOSITY_MODEL_REGEXP = /^gpt-5/i;

/** OpenAI itself (the built-in `openai` provider). */
function isOpenAI(target: FitTarget): boolean {
  return target.kind === "openai-compatible" && target.providerName === "openai";
}

/** OpenAI itself, or Azure OpenAI: servers that refuse fields they do not know. */
function isOpenAIService(target: FitTarget): boolean {
  return target.kind === "azure" || isOpenAI(target);
}

function takesTopK(target: FitTarget): boolean {
  return target.kind === "gemini" || (target.kind === "openai-compatible" && !isOpenAI(target));
}

function takesReasoning(target: FitTarget): boolean {
  if (target.kind === "anthropic") return false;
  return !isOpenAIService(target) || REASONING_MODEL_REGEXP.test(target.model);
}

function takesVerbosity(target: FitTarget): boolean {
  return isOpenAIService(target) && VERBOSITY_MODEL_REGEXP.test(target.model);
}

/**
 * Fits `chat` to `target` (see the table above); `chat` itself is not changed, and is returned
 * as it is when nothing needs removing.
 *
 * @example Usage
 * ```ts
 * import { fitToProvider } from "./fit.ts";
 * const fitted = fitToProvider(
 *   { model: "m", messages: [], top_k: 5, reasoning_effort: "low" },
 *   { providerName: "openai", kind: "openai-compatible", model: "gpt-4o" },
 *   { reasoning_effort: "thinking" },
 * );
 * // fitted.adjusted: ["top_k", "thinking"]; neither field is in fitted.chat
 * ```
 */
export function fitToProvider(
  chat: ChatCompletionRequest,
  target: FitTarget,
  names: FieldNames = {},
): Fitted {
  const drops: [FittedField, boolean][] = [
    ["top_k", chat.top_k !== undefined && !takesTopK(target)],
    ["reasoning_effort", chat.reasoning_effort !== undefined && !takesReasoning(target)],
    ["verbosity", chat.verbosity !== undefined && !takesVerbosity(target)],
  ];
  const dropCacheKey = chat.prompt_cache_key !== undefined && !isOpenAI(target);
  if (!dropCacheKey && drops.every(([, drop]) => !drop)) return { chat, adjusted: [] };
  const fitted: ChatCompletionRequest = { ...chat };
  const adjusted: string[] = [];
  for (const [field, drop] of drops) {
    if (!drop) continue;
    delete fitted[field];
    adjusted.push(names[field] ?? field);
  }
  if (dropCacheKey) delete fitted.prompt_cache_key;
  return { chat: fitted, adjusted };
}
