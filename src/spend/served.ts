/**
 * What a request may cost before it is sent: the targets its route plan may serve it by, and
 * their worst case. Pure.
 */
import type { RoutePlan } from "../routing/route.ts";
import { toPricedTarget } from "./priced_target.ts";
import type { PricedTarget, Pricing, RequestCost } from "./pricing.ts";

/**
 * Every target a plan may try, fallbacks included, with the prices each has there (the same
 * provider and model may be priced differently under two public names); none for
 * `choreoai/echo`, which the gateway serves itself at no cost.
 */
export function planTargets(plan: RoutePlan, publicModel: string): PricedTarget[] {
  if (plan.kind === "echo") return [];
  return plan.chain.flatMap((route) =>
    route.targets.map((target) => toPricedTarget(target, publicModel))
  );
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
