/**
 * A request to a provider as the adapters build it: URL, method, headers and a text body kept as
 * plain values. A fetch `Request` costs several microseconds to build and as many again for the
 * client to read back (its body becomes a stream); this is built for nothing and handed to the
 * gateway's fetch as `(url, init)`, where it is turned into bytes once.
 */

/** Header names lowercased, values as given: what a provider request carries. */
export class ProviderHeaders {
  #values: Record<string, string> = {};

  constructor(init: Readonly<Record<string, string>> = {}) {
    for (const name in init) {
      const value = init[name];
      if (value !== undefined) this.#values[name.toLowerCase()] = value;
    }
  }

  /** The value of `name` (any case), or null. */
  get(name: string): string | null {
    return this.#values[name.toLowerCase()] ?? null;
  }

  /** Whether `name` (any case) is set. */
  has(name: string): boolean {
    return this.#values[name.toLowerCase()] !== undefined;
  }

  /** Sets `name` to `value`, replacing any value it had. */
  set(name: string, value: string): void {
    this.#values[name.toLowerCase()] = value;
  }

  /** Removes `name`. */
  delete(name: string): void {
    delete this.#values[name.toLowerCase()];
  }

  /** `[name, value]` pairs, names lowercased. */
  entries(): [string, string][] {
    return Object.entries(this.#values);
  }

  /** The headers as a plain object (a copy), for fetch's `init.headers`. */
  toRecord(): Record<string, string> {
    return { ...this.#values };
  }
}

/** What {@linkcode ProviderRequest} is built from: fetch's init, restricted to text bodies. */
export interface ProviderRequestInit {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The body's text (JSON for every provider call). */
  readonly body?: string | undefined;
}

/**
 * One request to a provider, not yet sent. Reads like a fetch `Request` where the gateway and its
 * tests read one (`url`, `method`, `headers.get`, `json()`, `text()`), and is sent with
 * `fetch(request.url, request.init(signal))`.
 *
 * @example Usage
 * ```ts
 * import { ProviderRequest } from "./provider_request.ts";
 * const request = new ProviderRequest("https://api.openai.com/v1/chat/completions", {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify({ model: "gpt-4o" }),
 * });
 * request.headers.get("content-type"); // "application/json"
 * const init = request.init(AbortSignal.timeout(1_000)); // for fetch(request.url, init)
 * ```
 */
export class ProviderRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: ProviderHeaders;
  /** The body's text; null for a request without one (`GET`, `DELETE`). */
  readonly body: string | null;

  constructor(url: string, init: ProviderRequestInit = {}) {
    this.url = url;
    this.method = (init.method ?? "GET").toUpperCase();
    this.headers = new ProviderHeaders(init.headers);
    this.body = init.body ?? null;
  }

  /** The body's text ("" without one), as `Request.text()` gives it. */
  text(): Promise<string> {
    return Promise.resolve(this.body ?? "");
  }

  /** The body parsed as JSON, as `Request.json()` gives it. */
  json(): Promise<unknown> {
    return Promise.resolve().then(() => JSON.parse(this.body ?? ""));
  }

  /** fetch's second argument for this request, aborted by `signal`. */
  init(signal?: AbortSignal): RequestInit {
    return {
      method: this.method,
      headers: this.headers.toRecord(),
      ...(this.body === null ? {} : { body: this.body }),
      ...(signal === undefined ? {} : { signal }),
    };
  }
}
