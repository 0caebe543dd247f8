/**
 * Refusing OpenAI parameters a provider has no equivalent for, shared by the translating
 * adapters: OpenAI's default value is always accepted; anything else is a 400 naming it.
 */
import { errors, type GatewayError } from "../errors.ts";
import type { ChatCompletionRequest } from "../openai/schema.ts";

/** `[param, refused, reason]`: refused is true when the value is set to a non-default. */
export type ParameterCheck = readonly [param: string, refused: boolean, reason: string];

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function isNonEmptyObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.keys(value).length > 0;
}

function isTextOnly(value: unknown): boolean {
  return Array.isArray(value) && value.length === 1 && value[0] === "text";
}

/** The checks every non-OpenAI provider makes (log probabilities, biases, audio, legacy functions). */
export function commonParameterChecks(body: ChatCompletionRequest): ParameterCheck[] {
  return [
    ["logprobs", body.logprobs === true, "log probabilities are not available"],
    [
      "top_logprobs",
      typeof body.top_logprobs === "number" && body.top_logprobs > 0,
      "log probabilities are not available",
    ],
    ["logit_bias", isNonEmptyObject(body.logit_bias), "token biases are not available"],
    ["audio", isSet(body.audio), "audio output is not available"],
    ["modalities", isSet(body.modalities) && !isTextOnly(body.modalities), 'only ["text"]'],
    ["web_search_options", isSet(body.web_search_options), "web search is not available"],
    ["functions", isSet(body.functions), "use tools"],
    ["function_call", isSet(body.function_call), "use tool_choice"],
  ];
}

/** A 400 for the first refused check, naming the parameter and the provider. */
export function firstUnsupported(
  checks: readonly ParameterCheck[],
  provider: string,
): GatewayError | undefined {
  const refused = checks.find(([, isRefused]) => isRefused);
  if (refused === undefined) return undefined;
  const [param, , reason] = refused;
  return errors.invalidRequest(
    `Unsupported parameter '${param}' for ${provider} models: ${reason}`,
    param,
  );
}
