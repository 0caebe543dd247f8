/**
 * Model routing: which targets serve a model name, in which order.
 *
 * Pure. A public name of the routing file wins; then an explicit `provider/model` (a built-in
 * or declared provider); then a bare name's family. A built-in provider whose key is not set is
 * never routable, so no upstream call goes out without credentials.
 */
import { errors, type GatewayError } from "../errors.ts";
import type { ModelRoute, Routing } from "./table.ts";

/** The built-in upstream providers. */
export type ProviderName = "openai" | "anthropic" | "azure" | "gemini";

/** The built-in echo model, served by the gateway itself. */
export const ECHO_MODEL = "choreoai/echo";

/** How a request is served. */
export type RoutePlan =
  | { readonly kind: "echo" }
  | {
    readonly kind: "upstream";
    /** The model asked for, then its fallbacks, in order. */
    readonly chain: readonly ModelRoute[];
    /** Longest time before the first byte, over the whole chain. */
    readonly deadlineMs: number;
  };

const FAMILIES: readonly { readonly pattern: RegExp; readonly provider: ProviderName }[] = [
  { pattern: /^(gpt-|chatgpt-|text-embedding-|o1|o3|o4)/, provider: "openai" },
  { pattern: /^claude-/, provider: "anthropic" },
  { pattern: /^gemini-/, provider: "gemini" },
];

/**
 * Resolves a name that is not a public name: `provider/model` or a family. A string is the
 * reason it cannot be routed.
 */
export function resolveDirect(model: string, routing: Routing): ModelRoute | string {
  let providerName: string | undefined;
  let upstreamModel = model;
  const slash = model.indexOf("/");
  const prefix = slash > 0 ? model.slice(0, slash) : "";
  if (routing.providers.has(prefix) || routing.unkeyed.has(prefix)) {
    providerName = prefix;
    upstreamModel = model.slice(slash + 1);
    if (upstreamModel === "") {
      return `Cannot route model "${model}": no model name after "${prefix}/"`;
    }
  } else {
    providerName = FAMILIES.find((family) => family.pattern.test(model))?.provider;
  }
  if (providerName === undefined) {
    return `Cannot route model "${model}": name a provider (openai/, anthropic/, gemini/, ` +
      `azure/ or one of the routing file) or use a known family (gpt-*, o1*, o3*, o4*, ` +
      `claude-*, gemini-*) or ${ECHO_MODEL}`;
  }
  const provider = routing.providers.get(providerName);
  if (provider === undefined) {
    return `Cannot route model "${model}": it is served by ${providerName}, but ` +
      `${routing.unkeyed.get(providerName)} is not set on the gateway`;
  }
  return {
    name: model,
    targets: [{
      provider,
      model: upstreamModel,
      weight: 1,
      key: `${providerName}/${upstreamModel}`,
    }],
    retries: 0,
    timeoutMs: routing.defaultTimeoutMs,
    deadlineMs: routing.defaultTimeoutMs,
  };
}

/** Finds how a model the client asked for is served. */
export function planRoute(model: string, routing: Routing): RoutePlan | GatewayError {
  if (model === ECHO_MODEL) return { kind: "echo" };
  const published = routing.models.get(model);
  if (published !== undefined) {
    return {
      kind: "upstream",
      chain: [published, ...published.fallbacks],
      deadlineMs: published.deadlineMs,
    };
  }
  const direct = resolveDirect(model, routing);
  if (typeof direct === "string") return errors.modelNotFound(direct);
  return { kind: "upstream", chain: [direct], deadlineMs: direct.deadlineMs };
}
