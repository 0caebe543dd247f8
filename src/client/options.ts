/**
 * Options of the client and of each request.
 *
 * @module
 */

/** A `fetch`-compatible function: the global one, or one a test or an app supplies. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Header values; `null` or `undefined` removes a header the client would set. */
export type HeaderValues = Readonly<Record<string, string | null | undefined>>;

/** Options of `new ChoreoAI(...)`. */
export interface ClientOptions {
  /**
   * The gateway key, sent as `Authorization: Bearer <key>`. Default: the `CHOREOAI_API_KEY`
   * environment variable, where the runtime has one; without either the constructor throws.
   */
  readonly apiKey?: string | undefined;
  /**
   * The API root, `/v1` included. Default: the `CHOREOAI_BASE_URL` environment variable, else
   * `http://localhost:8000/v1`. In a browser a path such as `/v1` is resolved against the page.
   */
  readonly baseURL?: string | undefined;
  /**
   * Milliseconds to wait for an answer, and the longest silence between two events of a stream.
   * Default 600000 (10 minutes); `Infinity` waits for ever.
   */
  readonly timeout?: number | undefined;
  /**
   * How many times a failed request is tried again (429, 500, 502, 503, 504, no answer; an
   * answer's `x-should-retry: true` or `false` overrides its status). Default 2; 0 turns retries off.
   */
  readonly maxRetries?: number | undefined;
  /** Headers sent with every request (`Authorization` is always the client's own). */
  readonly defaultHeaders?: HeaderValues | undefined;
  /** The `fetch` to use, e.g. one that adds headers or records requests. Default: global. */
  readonly fetch?: FetchLike | undefined;
}

/** Options of one request, the last argument of every method. */
export interface RequestOptions {
  /** Aborts the request (and a stream it returned); the signal's reason is thrown. */
  readonly signal?: AbortSignal | undefined;
  /** More headers for this request; `null` removes one the client would send. */
  readonly headers?: HeaderValues | undefined;
  /** This request's timeout in milliseconds, instead of the client's. */
  readonly timeout?: number | undefined;
  /** This request's retries, instead of the client's. */
  readonly maxRetries?: number | undefined;
  /** Query-string parameters; `null` and `undefined` values are left out. */
  readonly query?: Readonly<Record<string, string | number | boolean | null | undefined>>;
}
