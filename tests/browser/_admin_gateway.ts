/**
 * The gateway the browser tests drive: the real handler (`createHandler`) on 127.0.0.1, port 0,
 * with a key list (an admin key and a client key), usage records kept in memory, prices from the
 * routing file, and two fake OpenAI-compatible providers: `good` answers, `broken` always fails
 * (500), so that the `broken-only` model fails and its target is marked.
 *
 * Until the admin API is merged, `/admin/api/…` is answered by `_fake_admin_api.ts` over the same
 * key list and records; everything else (the page, `/v1/…`) by the real handler.
 */
import { serveAdminPage } from "../../src/admin/page.ts";
import { createHandler } from "../../src/server.ts";
import { parseConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { compileKeyIndex, createKeyListVerifier } from "../../src/keys/verify.ts";
import type { KeyRecord } from "../../src/keys/key_file.ts";
import { createMemoryLimiter } from "../../src/limits/mod.ts";
import { buildRouting } from "../../src/routing/load.ts";
import { parseRoutingFile } from "../../src/routing/routing_file.ts";
import { createPricing } from "../../src/spend/create_pricing.ts";
import type { UsageRecord } from "../../src/usage/recorder.ts";
import { completionBody, PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { makeKey } from "../_helpers/keys.ts";
import { type FakeAdminState, handleFakeAdminApi } from "./_fake_admin_api.ts";

/** A running gateway for the browser tests. */
export interface AdminGateway extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly adminKey: string;
  readonly clientKey: string;
  /** The usage records of the requests served so far. */
  readonly records: readonly UsageRecord[];
}

/** Starts the gateway with its fake providers. */
export function startAdminGateway(): AdminGateway {
  const good = startFakeOpenAI({
    onChat: (body) => Response.json(completionBody(String(body.model))),
  });
  const broken = startFakeOpenAI({
    onChat: () =>
      Response.json({ error: { message: "down", type: "server_error", code: null } }, {
        status: 500,
      }),
  });
  const env = { GOOD_KEY: PROVIDER_KEY, BROKEN_KEY: PROVIDER_KEY };
  const config = parseConfig({ CHOREOAI_PORT: "0" });
  const table = buildRouting(
    config,
    parseRoutingFile(JSON.stringify({
      providers: {
        good: { kind: "openai-compatible", base_url: good.baseUrl, api_key_env: "GOOD_KEY" },
        broken: { kind: "openai-compatible", base_url: broken.baseUrl, api_key_env: "BROKEN_KEY" },
      },
      circuit_breaker: { failures: 2, cooldown_ms: 600_000 },
      models: {
        "gpt-4o": {
          targets: [{ provider: "good", model: "gpt-4o" }],
          prices: { input_per_mtok: 2.5, output_per_mtok: 10 },
        },
        "broken-only": { targets: [{ provider: "broken", model: "m1" }] },
      },
    })),
    env,
  );
  const admin = makeKey({ role: "admin", name: "ops admin" });
  const client = makeKey({ name: "web app", budget: { usd: 5, period: "month" } });
  const keys: KeyRecord[] = [admin.record, client.record];
  let index = compileKeyIndex({ version: 1, keys });
  const records: UsageRecord[] = [];
  const now = () => performance.timeOrigin + performance.now();
  const verifier = createKeyListVerifier(() => index);
  const handler = createHandler({
    config,
    verifier,
    fetch: globalThis.fetch,
    now,
    randomId: () => crypto.randomUUID().replaceAll("-", ""),
    log: createLogger(() => {}, now),
    usage: { record: (entry) => void records.push(entry) },
    routing: () => table,
    pricing: createPricing({ now }),
    limiter: createMemoryLimiter({ now }),
    adminPage: serveAdminPage,
  });
  const state: FakeAdminState = {
    keys,
    changed: () => (index = compileKeyIndex({ version: 1, keys })),
    records,
    verifier,
    targets: ["good/gpt-4o", "broken/broken-only"],
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request, info) =>
      new URL(request.url).pathname.startsWith("/admin/api/")
        ? handleFakeAdminApi(request, state)
        : handler(request, info),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    adminKey: admin.token,
    clientKey: client.token,
    records,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await good[Symbol.asyncDispose]();
      await broken[Symbol.asyncDispose]();
    },
  };
}
