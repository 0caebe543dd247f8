/**
 * Admitting a model request, once its body is read and its route planned and before any
 * provider is called: its key's rate limits (`rate_limits.ts`), then its budget
 * (`budgets.ts`). Every route of every dialect calls this one function. The token reservation
 * (prompt estimate and output limit) is worked out at most once, and only when a limit or a
 * budget needs it.
 */
import type { RoutePlan } from "../routing/route.ts";
import { planTargets, worstCaseCost } from "../spend/served.ts";
import { reserveBudget } from "./budgets.ts";
import type { RequestContext, RouteDeps } from "./context.ts";
import { admit, type TokenReservation } from "./rate_limits.ts";

/** What admission needs to know of a request. */
export interface Admission {
  /** How the request will be served: its targets' prices bound its cost. */
  readonly plan: RoutePlan;
  /** The model name the client sent. */
  readonly model: string;
  /** The request's token reservation (called at most once). */
  readonly reservation: () => TokenReservation;
}

/**
 * Admits a request: its rate limits, then its budget's reservation of the request's worst case
 * (`pricing.worstCase` of every target of the plan, fallbacks included, for the prompt estimate
 * and every choice's output limit).
 *
 * @throws {GatewayError} 429 `rate_limit_exceeded` or `insufficient_quota`.
 */
export async function admitRequest(
  ctx: RequestContext,
  deps: RouteDeps,
  admission: Admission,
): Promise<void> {
  let reservation: TokenReservation | undefined;
  const reserved = () => reservation ??= admission.reservation();
  if (ctx.limits !== undefined) await admit(deps.limiter, ctx.limits, reserved);
  const { budget } = ctx.spend;
  if (budget === undefined) return;
  const { prompt, completion } = reserved();
  const worst = worstCaseCost(deps.pricing, planTargets(admission.plan, admission.model), {
    prompt,
    output: completion === undefined ? 0 : completion.perChoice * completion.choices,
  });
  await reserveBudget(deps.ledger, budget, { amount: worst.microUsd, now: deps.now() });
}
