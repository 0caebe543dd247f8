/**
 * The {@linkcode ChoreoAI} client.
 *
 * @module
 */
import { readEnv } from "./_env.ts";
import { Transport } from "./_http.ts";
import { Chat } from "./chat.ts";
import { Embeddings } from "./embeddings.ts";
import { ChoreoAIError } from "./errors.ts";
import { Models } from "./models.ts";
import type { ClientOptions, FetchLike, HeaderValues } from "./options.ts";

/** Where the gateway listens by default (`CHOREOAI_BASE_URL` overrides it). */
export const DEFAULT_BASE_URL = "http://localhost:8000/v1";
/** Milliseconds to wait for an answer, and between two events of a stream (10 minutes). */
export const DEFAULT_TIMEOUT = 600_000;
/** Retries after the first attempt, for 429, 500, 502, 503, 504 and connection failures. */
export const DEFAULT_MAX_RETRIES = 2;

/** The global fetch, looked up at call time (a bare reference loses its `this` in browsers). */
const globalFetch: FetchLike = (input, init) => fetch(input, init);

/**
 * A client for the ChoreoAI gateway (and any OpenAI-compatible server), for Deno, Node and
 * browsers. The API key is kept private: `JSON.stringify(client)`, `console.log(client)` and
 * every error's text show `***` instead.
 *
 * Failed requests (429, 500, 502, 503, 504, no answer) are retried `maxRetries` times: after
 * `Retry-After` when the server sends one (over 60 s, the error is thrown at once), else after
 * 0.5 s, 1 s, 2 s, … (at most 8 s, less up to 25 % jitter). As in OpenAI's SDKs, an answer with
 * `x-should-retry: false` is never retried and one with `x-should-retry: true` is, whatever its
 * status. A stream is never retried once its answer has begun.
 *
 * @example Chat with the built-in echo model
 * ```ts
 * import { ChoreoAI } from "./mod.ts";
 *
 * // Or `new ChoreoAI()` with CHOREOAI_API_KEY set in the environment.
 * const client = new ChoreoAI({ apiKey: "your-api-key" });
 * const completion = await client.chat.completions.create({
 *   model: "choreoai/echo",
 *   messages: [{ role: "user", content: "Hello!" }],
 * });
 * console.log(completion.choices[0]?.message.content); // Hello!
 * ```
 */
export class ChoreoAI {
  /** The API root, without a trailing slash. */
  readonly baseURL: string;
  /** Milliseconds to wait for an answer, and between two events of a stream. */
  readonly timeout: number;
  /** How many times a failed request is tried again. */
  readonly maxRetries: number;
  /** `client.chat.completions.create(...)`. */
  readonly chat: Chat;
  /** `client.models.list()`, `client.models.retrieve(id)`. */
  readonly models: Models;
  /** `client.embeddings.create(...)`. */
  readonly embeddings: Embeddings;
  readonly #apiKey: string;
  readonly #defaultHeaders: HeaderValues;
  readonly #fetch: FetchLike | undefined;

  /**
   * @param options `apiKey` (default `CHOREOAI_API_KEY`), `baseURL` (default
   * `CHOREOAI_BASE_URL`, else `http://localhost:8000/v1`), `timeout` (ms, default 600000),
   * `maxRetries` (default 2), `defaultHeaders`, `fetch`.
   * @throws {ChoreoAIError} when there is no API key.
   */
  constructor(options: ClientOptions = {}) {
    const apiKey = (options.apiKey ?? readEnv("CHOREOAI_API_KEY") ?? "").trim();
    if (apiKey === "") {
      throw new ChoreoAIError(
        "Cannot create a ChoreoAI client: no API key given; pass { apiKey } to new ChoreoAI() " +
          "or set the CHOREOAI_API_KEY environment variable",
      );
    }
    checkApiKey(apiKey);
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    if (!(timeout > 0)) {
      throw new RangeError(`Cannot use timeout ${timeout}: it must be a number of ms above 0`);
    }
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new RangeError(`Cannot use maxRetries ${maxRetries}: it must be an integer >= 0`);
    }
    this.baseURL = resolveBaseURL(options.baseURL ?? readEnv("CHOREOAI_BASE_URL"));
    this.timeout = timeout;
    this.maxRetries = maxRetries;
    this.#apiKey = apiKey;
    this.#defaultHeaders = { ...options.defaultHeaders };
    this.#fetch = options.fetch;
    const transport = new Transport(apiKey, {
      baseURL: this.baseURL,
      timeout,
      maxRetries,
      defaultHeaders: this.#defaultHeaders,
      fetch: options.fetch ?? globalFetch,
    });
    this.chat = new Chat(transport);
    this.models = new Models(transport);
    this.embeddings = new Embeddings(transport);
  }

  /** The API key in use (never part of the client's JSON or inspected form). */
  get apiKey(): string {
    return this.#apiKey;
  }

  /**
   * A copy of this client with some settings changed; the key stays the same unless given.
   *
   * @example A client that does not retry
   * ```ts
   * import { ChoreoAI } from "./mod.ts";
   *
   * const client = new ChoreoAI({ apiKey: "your-api-key" });
   * const once = client.withOptions({ maxRetries: 0 });
   * console.log(once.maxRetries); // 0
   * ```
   */
  withOptions(options: ClientOptions): ChoreoAI {
    return new ChoreoAI({
      apiKey: this.#apiKey,
      baseURL: this.baseURL,
      timeout: this.timeout,
      maxRetries: this.maxRetries,
      defaultHeaders: this.#defaultHeaders,
      fetch: this.#fetch,
      ...definedOnly(options),
    });
  }

  /** What `JSON.stringify(client)` shows: the settings, with the key as `***`. */
  toJSON(): { baseURL: string; apiKey: string; timeout: number; maxRetries: number } {
    return {
      baseURL: this.baseURL,
      apiKey: "***",
      timeout: this.timeout,
      maxRetries: this.maxRetries,
    };
  }

  /** What Deno's `console.log(client)` shows. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.#describe();
  }

  /** What Node's `console.log(client)` shows. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.#describe();
  }

  #describe(): string {
    return `ChoreoAI { baseURL: ${JSON.stringify(this.baseURL)}, apiKey: "***", timeout: ${
      String(this.timeout)
    }, maxRetries: ${this.maxRetries} }`;
  }
}

/** The base URL without a trailing slash; relative URLs resolve against the page, if any. */
function resolveBaseURL(value: string | undefined): string {
  const text = (value ?? DEFAULT_BASE_URL).trim();
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  let url: URL;
  try {
    url = new URL(text, page);
  } catch {
    throw new ChoreoAIError(`Cannot use baseURL "${text}": it is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ChoreoAIError(`Cannot use baseURL "${text}": it must be an http:// or https:// URL`);
  }
  return url.href.replace(/\/+$/, "");
}

function definedOnly(options: ClientOptions): ClientOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/** Throws for a key that cannot travel in an HTTP header, without showing the key. */
function checkApiKey(key: string): void {
  for (let i = 0; i < key.length; i += 1) {
    const code = key.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) {
      throw new ChoreoAIError(
        "Cannot use the API key: it contains characters that cannot be sent in an HTTP header " +
          "(control or non-ASCII characters); check how it was copied",
      );
    }
  }
}
