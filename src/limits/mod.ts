/**
 * Per-key rate limits: continuous token buckets for requests and tokens per minute, in process
 * ({@linkcode createMemoryLimiter}) or shared by replicas through Redis
 * ({@linkcode createRedisLimiter}, which falls back to an in-process limiter while Redis is away).
 *
 * @module
 */
export type { Decision, LimitSpec, LimitView, MemoryLimiter, RateLimiter } from "./limiter.ts";
export { createMemoryLimiter, DEFAULT_MAX_KEYS } from "./limiter.ts";
export type { RedisLimiterOptions } from "./redis.ts";
export { createRedisLimiter, REDIS_TIMEOUT_MS } from "./redis.ts";
