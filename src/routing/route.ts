/**
 * Model routing: which targets serve a model name, in which order.
 *
 * Pure. A public name of the routing file wins; then an explicit `provider/model` (a built-in
 * or declared provider); then a bare name's family. A built-in provider whose key is not set is
 * never routable, so no upstream call goes out without credentials.
 */
import { errors, type GatewayError } from "../errors.ts";
import type { ModelRoute, Routing, Unroutable } from "./table.ts";

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

/** Resolves a name that is not a public name: `provider/model` or a family. */
export function resolveDirect(model: string, routing: Routing): ModelRoute | Unroutable {
  let providerName: string | undefined;
  let upstreamModel = model;
  const slash = model.indexOf("/");
  const prefix = slash > 0 ? model.slice(0, slash) : "";
  if (routing.providers.has(prefix) || routing.unkeyed.has(prefix)) {
    providerName = prefix;
    upstreamModel = model.slice(slash + 1);
    if (upstreamModel === "") {
      return { reason: `Cannot route model "${model}": no model name after "${prefix}/"` };
    }
  } else {
    providerName = FAMILIES.find((family) => family.pattern.test(model))?.provider;
  }
  if (providerName === undefined) {
    return {
      reason: `Cannot route model "${model}": name a provider (openai/, anthropic/, gemini/, ` +
        `azure/ or one of the routing file) or use a known family (gpt-*, o1*, o3*, o4*, ` +
        `claude-*, gemini-*) or ${ECHO_MODEL}`,
    };
  }
  const provider = routing.providers.get(providerName);
  if (provider === undefined) {
    const variable = routing.unkeyed.get(providerName);
    return {
      reason: `Cannot route model "${model}": it is served by ${providerName}, but ` +
        `${variable} is not set on the gateway`,
      missingKey: variable,
    };
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
    // Targets whose provider has no key were left out at load; a model left with none is
    // skipped, and a chain left empty is a 404 naming what is missing.
    const chain = [published, ...published.fallbacks].filter((m) => m.targets.length > 0);
    if (chain.length === 0) {
      const missing = [published, ...published.fallbacks].flatMap((m) => m.missing ?? []);
      return errors.modelNotFound(
        `Cannot route model "${model}": ${missing.join("; ") || "it has no usable target"}`,
      );
    }
    return { kind: "upstream", chain, deadlineMs: published.deadlineMs };
  }
  const direct = resolveDirect(model, routing);
  if ("reason" in direct) return errors.modelNotFound(direct.reason);
  return { kind: "upstream", chain: [direct], deadlineMs: direct.deadlineMs };
}
