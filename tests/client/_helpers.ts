/** Shared set-up of the TypeScript client's tests: a client pointed at a test gateway. */
import { ChoreoAI, type ClientOptions } from "../../src/client/mod.ts";
import { createKeyListVerifier } from "../../src/keys/verify.ts";
import { compileKeyIndex } from "../../src/keys/verify.ts";
import { parseKeyFile } from "../../src/keys/key_file.ts";
import type { KeyRecord } from "../../src/keys/key_file.ts";
import { createMemoryLimiter } from "../../src/limits/mod.ts";
import { CLIENT_KEY, startGateway, type TestGateway } from "../_helpers/gateway.ts";
import { keyFileText } from "../_helpers/keys.ts";
import { PROVIDER_KEY } from "../_helpers/fake_openai.ts";

/** A client of `gateway`, with the test key unless `options` says otherwise. */
export function clientFor(
  gateway: { readonly url: string },
  options: ClientOptions = {},
): ChoreoAI {
  return new ChoreoAI({ apiKey: CLIENT_KEY, baseURL: `${gateway.url}/v1`, ...options });
}

/** The gateway environment that routes `gpt-*` to a fake OpenAI at `baseUrl`. */
export function openaiEnv(
  baseUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: baseUrl, ...extra };
}

/** A gateway in production mode with the key list `records` and in-process rate limits. */
export function gatewayWithKeys(
  records: readonly KeyRecord[],
  env: Record<string, string> = {},
): TestGateway {
  const index = compileKeyIndex(parseKeyFile(keyFileText(records)));
  const now = () => performance.timeOrigin + performance.now();
  return startGateway({
    env,
    verifier: createKeyListVerifier(() => index),
    limiter: createMemoryLimiter({ now }),
  });
}

const encoder = new TextEncoder();

/** One SSE event `data: <value>`. */
export function sseEvent(value: unknown): Uint8Array<ArrayBuffer> {
  return encoder.encode(`data: ${typeof value === "string" ? value : JSON.stringify(value)}\n\n`);
}

/** A tiny HTTP server on 127.0.0.1, port 0, for cases the gateway never produces. */
export function startServer(
  handler: (request: Request) => Response | Promise<Response>,
): AsyncDisposable & { readonly url: string; readonly requests: Request[] } {
  const requests: Request[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    requests.push(request.clone());
    return handler(request);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** A fetch that records each request it sends, then sends it with the global fetch. */
export function recordingFetch(): {
  readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  readonly requests: Request[];
} {
  const requests: Request[] = [];
  return {
    requests,
    fetch(input, init) {
      const request = new Request(input, init);
      requests.push(request.clone());
      return fetch(request);
    },
  };
}
