/**
 * Fixtures for usage tests on both stores: records, and a fresh PostgreSQL database per case in a
 * test cluster (`CREATE DATABASE` is much quicker than a cluster of its own).
 */
import postgres from "postgres";
import type { UsageRecord } from "../../src/usage/recorder.ts";
import type { TestPostgres } from "./postgres.ts";

/** 2026-11-25T12:00:00Z */
export const T0: number = Date.UTC(2026, 10, 25, 12, 0, 0);

/** A priced, successful chat completion of `key_a` at {@linkcode T0}, with `overrides`. */
export function usageRecord(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    time: T0,
    key_id: "key_a",
    endpoint: "/v1/chat/completions",
    model: "gpt-4o",
    provider: "openai",
    status: 200,
    prompt_tokens: 10,
    completion_tokens: 5,
    total_tokens: 15,
    latency_ms: 120.5,
    ttfb_ms: 30,
    cost_usd: 0.000125,
    unpriced: false,
    ...overrides,
  };
}

/** Creates an empty database in `pg` and returns its URL. */
export async function createDatabase(pg: TestPostgres): Promise<string> {
  const name = `usage_${crypto.randomUUID().replaceAll("-", "")}`;
  const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end({ timeout: 1 });
  }
  const url = new URL(pg.url);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Polls `check` every 20 ms until it holds; throws after `ms`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 5_000,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
