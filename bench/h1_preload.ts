/**
 * Preloaded into the gateway by `bench/h1_compare.ts --gateway`: replaces the global fetch that
 * main.ts passes down (`deps.fetch`) with the HTTP/1.1 client, without editing main.ts.
 *
 *     deno run --preload bench/h1_preload.ts … main.ts
 */
import { createHttp1Fetch } from "../src/http/h1_client.ts";

globalThis.fetch = createHttp1Fetch({ fallback: globalThis.fetch }) as typeof fetch;
