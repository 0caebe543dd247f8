/**
 * Model routing: which provider serves a model name, and under which upstream name.
 *
 * Pure. An explicit `provider/model` wins; a bare name is routed by its family. A provider
 * whose key is not configured is never routable, so no upstream call goes out without
 * credentials.
 */
import { errors, type GatewayError } from "../errors.ts";

/** The built-in upstream providers. */
export type ProviderName = "openai" | "anthropic" | "azure" | "gemini";

/** The built-in echo model, served by the gateway itself. */
export const ECHO_MODEL = "choreoai/echo";

/** Where a request goes. */
export type Route =
  | { readonly provider: "echo"; readonly model: typeof ECHO_MODEL }
  | { readonly provider: ProviderName; readonly model: string };

/** The variable that must be set for each provider to be routable. */
export const PROVIDER_KEY_VARIABLE: Readonly<Record<ProviderName, string>> = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  azure: "AZURE_OPENAI_API_KEY",
  gemini: "GEMINI_API_KEY",
};

const PROVIDERS: readonly ProviderName[] = ["openai", "anthropic", "azure", "gemini"];

const FAMILIES: readonly { readonly pattern: RegExp; readonly provider: ProviderName }[] = [
  { pattern: /^(gpt-|chatgpt-|text-embedding-|o1|o3|o4)/, provider: "openai" },
  { pattern: /^claude-/, provider: "anthropic" },
  { pattern: /^gemini-/, provider: "gemini" },
];

/** Which providers have a key, and which the gateway can translate for. */
export interface RoutingTable {
  /** Providers whose API key is configured. */
  readonly keyed: ReadonlySet<ProviderName>;
  /** Providers this build has an adapter for. */
  readonly supported: ReadonlySet<ProviderName>;
}

function isProviderName(value: string): value is ProviderName {
  return (PROVIDERS as readonly string[]).includes(value);
}

/** Finds the provider and upstream model name for a model the client asked for. */
export function resolveRoute(model: string, table: RoutingTable): Route | GatewayError {
  if (model === ECHO_MODEL) return { provider: "echo", model: ECHO_MODEL };
  let provider: ProviderName | undefined;
  let upstreamModel = model;
  const slash = model.indexOf("/");
  const prefix = slash > 0 ? model.slice(0, slash) : "";
  if (isProviderName(prefix)) {
    provider = prefix;
    upstreamModel = model.slice(slash + 1);
    if (upstreamModel === "") {
      return errors.modelNotFound(
        `Cannot route model "${model}": no model name after "${prefix}/"`,
      );
    }
  } else {
    provider = FAMILIES.find((family) => family.pattern.test(model))?.provider;
  }
  if (provider === undefined) {
    return errors.modelNotFound(
      `Cannot route model "${model}": name a provider (openai/, anthropic/, gemini/, azure/) ` +
        `or use a known family (gpt-*, o1*, o3*, o4*, claude-*, gemini-*) or ${ECHO_MODEL}`,
    );
  }
  if (!table.supported.has(provider)) {
    return errors.modelNotFound(
      `Cannot route model "${model}": the ${provider} provider is not available in this version`,
    );
  }
  if (!table.keyed.has(provider)) {
    return errors.modelNotFound(
      `Cannot route model "${model}": it is served by ${provider}, but ` +
        `${PROVIDER_KEY_VARIABLE[provider]} is not set on the gateway`,
    );
  }
  return { provider, model: upstreamModel };
}
