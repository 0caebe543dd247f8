/**
 * Per-key rate limits: continuous token buckets for requests and tokens per minute, in process
 * ({@linkcode createMemoryLimiter}) or shared by replicas through Redis (`createRedisLimiter` in
 * `./redis.ts`, which falls back to an in-process limiter while Redis is away). The Redis client
 * is imported from `./redis.ts` only by a gateway that uses Redis: the package weighs ~25 MiB.
 *
 * @module
 */
export type { Decision, LimitSpec, LimitView, MemoryLimiter, RateLimiter } from "./limiter.ts";
export { createMemoryLimiter, DEFAULT_MAX_KEYS } from "./limiter.ts";
export type { RedisLimiterOptions } from "./redis.ts";
