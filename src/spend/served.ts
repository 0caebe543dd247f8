/**
 * What budgets price: the targets a request may be served by (its route plan), the target that
 * served it, and its usage as billed. Pure.
 */
import type { Usage } from "../openai/schema.ts";
import type { RoutePlan } from "../routing/route.ts";
import type { RouteTarget } from "../routing/table.ts";
import type { BilledUsage, PricedTarget, Pricing, RequestCost } from "./pricing.ts";

/** A route target as pricing sees it, for a request that asked for `publicModel`. */
export function pricedTarget(target: RouteTarget, publicModel: string): PricedTarget {
  const { provider } = target;
  return {
    providerKind: provider.kind,
    providerName: provider.name,
    upstreamModel: target.model,
    publicModel,
    // The routing file's prices of the target (or its public model) go here once it has them.
    prices: undefined,
  };
}

/**
 * Every target a plan may try, fallbacks included, each once; none for `choreoai/echo`, which
 * the gateway serves itself at no cost.
 */
export function planTargets(plan: RoutePlan, publicModel: string): PricedTarget[] {
  if (plan.kind === "echo") return [];
  const seen = new Set<string>();
  const targets: PricedTarget[] = [];
  for (const route of plan.chain) {
    for (const target of route.targets) {
      if (seen.has(target.key)) continue;
      seen.add(target.key);
      targets.push(pricedTarget(target, publicModel));
    }
  }
  return targets;
}

/** A request's usage as pricing reads it. */
export function billedUsage(usage: Usage): BilledUsage {
  return { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens };
}

const FREE: RequestCost = { microUsd: 0, unpriced: false };

/**
 * The most a request may cost: its prompt estimate and output limit at the dearest of its
 * targets; nothing without targets (the gateway's own echo) or without prices.
 */
export function worstCaseCost(
  pricing: Pricing | undefined,
  targets: readonly PricedTarget[],
  tokens: { readonly prompt: number; readonly output: number },
): RequestCost {
  if (pricing === undefined || targets.length === 0) return FREE;
  return pricing.worstCase(targets, tokens.prompt, tokens.output);
}
