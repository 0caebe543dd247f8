/**
 * `GET /admin/api/providers`: per upstream target (`provider/model`), over the last 15 minutes,
 * attempts, provider errors and their rate, latency percentiles of successful attempts, the
 * circuit breaker's state and the last errors (messages without secrets): every target of the
 * routing table, and any other seen in the window or with a breaker not closed.
 */
import { HEALTH_WINDOW_MS, type TargetHealth } from "../../observe/provider_health.ts";
import type { AdminCall } from "./router.ts";

/** `GET /admin/api/providers`. */
export function providers(call: AdminCall): Promise<Response> {
  const { routing, breakers, providerHealth } = call.api;
  const seen = new Map(providerHealth.snapshot().map((health) => [health.target, health]));
  const targets = new Map<string, string>();
  for (const model of routing().models.values()) {
    for (const route of [model, ...model.fallbacks]) {
      for (const target of route.targets) targets.set(target.key, target.provider.name);
    }
  }
  for (const [key, health] of seen) if (!targets.has(key)) targets.set(key, health.provider);
  for (const key of breakers.failing()) {
    if (!targets.has(key)) targets.set(key, key.slice(0, Math.max(0, key.indexOf("/"))));
  }
  const data = [...targets].map(([target, provider]) => {
    const health: TargetHealth = seen.get(target) ?? {
      target,
      provider,
      attempts: 0,
      errors: 0,
      latency_p50_ms: null,
      latency_p99_ms: null,
      recent_errors: [],
    };
    return {
      target,
      provider: health.provider,
      breaker: breakers.stateOf(target),
      attempts: health.attempts,
      errors: health.errors,
      error_rate: health.attempts === 0 ? 0 : health.errors / health.attempts,
      latency_p50_ms: health.latency_p50_ms,
      latency_p99_ms: health.latency_p99_ms,
      recent_errors: health.recent_errors,
    };
  });
  return Promise.resolve(Response.json({ window_seconds: HEALTH_WINDOW_MS / 1000, data }));
}
