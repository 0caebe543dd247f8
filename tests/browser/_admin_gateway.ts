/**
 * The gateway the browser tests drive: the real handler (`startGateway`) with the admin page and
 * the admin API over a real key file (an admin key, and a client key with a budget) and usage
 * recorded to and read from SQLite, all in a temporary directory; prices from the routing file;
 * and two fake OpenAI-compatible providers: `good` answers, `broken` always fails (500), so that
 * the `broken-only` model fails and its target is marked.
 */
import { serveAdminPage } from "../../src/admin/page.ts";
import { fileKeyList } from "../../src/keys/key_list_access.ts";
import { openKeyStore } from "../../src/keys/store.ts";
import { createKeyListVerifier } from "../../src/keys/verify.ts";
import { createMemoryLimiter } from "../../src/limits/mod.ts";
import { createLogger } from "../../src/log.ts";
import { createPricing } from "../../src/spend/create_pricing.ts";
import { createSqliteUsageReader } from "../../src/usage/reader.ts";
import { openUsageRecorder } from "../../src/usage/recorder.ts";
import { completionBody, PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { startGateway } from "../_helpers/gateway.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";

/** A running gateway for the browser tests. */
export interface AdminGateway extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly adminKey: string;
  readonly clientKey: string;
}

/** The routing file: `gpt-4o` on the good provider (priced), `broken-only` on the broken one. */
function routingFile(good: string, broken: string) {
  return {
    providers: {
      good: { kind: "openai-compatible", base_url: good, api_key_env: "GOOD_KEY" },
      broken: { kind: "openai-compatible", base_url: broken, api_key_env: "BROKEN_KEY" },
    },
    circuit_breaker: { failures: 2, cooldown_ms: 600_000 },
    models: {
      "gpt-4o": {
        targets: [{ provider: "good", model: "gpt-4o" }],
        prices: { input_per_mtok: 2.5, output_per_mtok: 10 },
      },
      "broken-only": { targets: [{ provider: "broken", model: "m1" }] },
    },
  };
}

/** Starts the gateway with its fake providers. */
export async function startAdminGateway(): Promise<AdminGateway> {
  const good = startFakeOpenAI({
    onChat: (body) => Response.json(completionBody(String(body.model))),
  });
  const broken = startFakeOpenAI({
    onChat: () =>
      Response.json({ error: { message: "down", type: "server_error", code: null } }, {
        status: 500,
      }),
  });
  const dir = await Deno.makeTempDir({ prefix: "choreoai-admin-page-" });
  const keysPath = `${dir}/keys.json`;
  const dbPath = `${dir}/usage.db`;
  const admin = makeKey({ role: "admin", name: "ops admin" });
  const client = makeKey({ name: "web app", budget: { usd: 5, period: "month" } });
  await Deno.writeTextFile(keysPath, keyFileText([admin.record, client.record]));
  const log = createLogger(() => {}, Date.now);
  const store = await openKeyStore(keysPath, log);
  const usage = openUsageRecorder(dbPath, { log, flushIntervalMs: 10 });
  const now = () => performance.timeOrigin + performance.now();
  const gateway = startGateway({
    env: { GOOD_KEY: PROVIDER_KEY, BROKEN_KEY: PROVIDER_KEY },
    routingFile: routingFile(good.baseUrl, broken.baseUrl),
    verifier: createKeyListVerifier(() => store.current()),
    usage,
    keyList: fileKeyList(keysPath),
    keyStore: store,
    usageReader: createSqliteUsageReader(dbPath),
    limiter: createMemoryLimiter({ now }),
    pricing: createPricing({ now }),
    adminPage: serveAdminPage,
  });
  return {
    url: gateway.url,
    adminKey: admin.token,
    clientKey: client.token,
    async [Symbol.asyncDispose]() {
      await gateway[Symbol.asyncDispose]();
      await usage.close();
      store[Symbol.dispose]();
      await good[Symbol.asyncDispose]();
      await broken[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
