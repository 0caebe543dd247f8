/**
 * The errors the client throws, mirroring the Python client's hierarchy:
 *
 * ```text
 * ChoreoAIError                  anything from this package (e.g. no API key configured)
 * └── APIError                   the gateway refused or failed a request
 *     ├── APIConnectionError     no answer: refused connection, reset, broken stream (no status)
 *     │   └── APITimeoutError    no answer within `timeout`
 *     ├── BadRequestError        400 and the other 4xx about the request (405, 408, 413, 415, …)
 *     │   └── NotFoundError      404 (unknown model or path)
 *     ├── AuthenticationError    401
 *     ├── PermissionDeniedError  403
 *     ├── RateLimitError         429
 *     └── InternalServerError    5xx
 * ```
 *
 * @module
 */

/** Fields of an {@linkcode APIError} besides its message. */
export interface APIErrorOptions extends ErrorOptions {
  /** The HTTP status; `undefined` without an HTTP answer, or for an error event mid-stream. */
  readonly status?: number | undefined;
  readonly type?: string | null | undefined;
  readonly code?: string | null | undefined;
  readonly param?: string | null | undefined;
  readonly headers?: Headers | undefined;
  /** The decoded error body, or its raw text. */
  readonly body?: unknown;
}

/**
 * Base class of every error the client throws; also thrown on its own for a missing API key.
 *
 * @example Catch anything from the client
 * ```ts
 * import { ChoreoAI, ChoreoAIError } from "./mod.ts";
 *
 * try {
 *   new ChoreoAI({ apiKey: "" });
 * } catch (error) {
 *   if (!(error instanceof ChoreoAIError)) throw error;
 * }
 * ```
 */
export class ChoreoAIError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ChoreoAIError";
  }
}

/**
 * The gateway refused or failed a request. Carries the fields of the gateway's error body
 * `{"error": {"message", "type", "param", "code"}}`, the HTTP status and the response headers.
 *
 * @example Read an error's fields
 * ```ts
 * import { APIError, ChoreoAI } from "./mod.ts";
 *
 * const client = new ChoreoAI({ apiKey: "your-api-key" });
 * try {
 *   await client.models.retrieve("no-such-model");
 * } catch (error) {
 *   if (!(error instanceof APIError)) throw error;
 *   console.log(error.status, error.type, error.code, error.message, error.requestId);
 * }
 * ```
 */
export class APIError extends ChoreoAIError {
  /** The HTTP status; `undefined` without an HTTP answer, or for an error event mid-stream. */
  readonly status: number | undefined;
  /** `error.type`, e.g. `"invalid_request_error"`, `"api_error"`. */
  readonly type: string | null;
  /** `error.code`, e.g. `"invalid_api_key"`, `"rate_limit_exceeded"`. */
  readonly code: string | null;
  /** `error.param`: the request field at fault, when known. */
  readonly param: string | null;
  /** The `x-request-id` response header: quote it when reporting a problem. */
  readonly requestId: string | null;
  /** The response headers (empty without an HTTP answer). */
  readonly headers: Headers;
  /** The decoded error body, its raw text, or `undefined`. */
  readonly body: unknown;

  constructor(message: string, options: APIErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "APIError";
    this.status = options.status;
    this.type = options.type ?? null;
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.requestId = options.headers?.get("x-request-id") ?? null;
    this.headers = options.headers ?? new Headers();
    this.body = options.body;
  }

  /** Seconds the server asked to wait (`retry-after-ms` or `Retry-After`), if it did. */
  get retryAfter(): number | undefined {
    return parseRetryAfter(this.headers);
  }
}

/**
 * No HTTP answer: the connection failed or was reset, or a stream broke off. `status` is
 * `undefined`.
 *
 * @example Tell a network failure from a refusal
 * ```ts
 * import { APIConnectionError, ChoreoAI } from "./mod.ts";
 *
 * const client = new ChoreoAI({ apiKey: "key", baseURL: "http://127.0.0.1:9/v1", maxRetries: 0 });
 * try {
 *   await client.models.list();
 * } catch (error) {
 *   if (!(error instanceof APIConnectionError)) throw error;
 * }
 * ```
 */
export class APIConnectionError extends APIError {
  constructor(message = "Connection error", options: APIErrorOptions = {}) {
    super(message, options);
    this.name = "APIConnectionError";
  }
}

/**
 * The gateway did not answer, or a stream stayed silent, for longer than the client's
 * `timeout`.
 *
 * @example A short timeout
 * ```ts
 * import { APITimeoutError, ChoreoAI } from "./mod.ts";
 *
 * const client = new ChoreoAI({ apiKey: "key", timeout: 1_000 });
 * try {
 *   await client.models.list();
 * } catch (error) {
 *   if (error instanceof APITimeoutError) console.log("the gateway is slow");
 * }
 * ```
 */
export class APITimeoutError extends APIConnectionError {
  constructor(message = "Request timed out", options: APIErrorOptions = {}) {
    super(message, options);
    this.name = "APITimeoutError";
  }
}

/**
 * 400 and the other 4xx statuses about the request itself (`invalid_request_error`).
 *
 * @example
 * ```ts
 * import { BadRequestError } from "./mod.ts";
 *
 * const error = new BadRequestError("Bad", { status: 400, code: "invalid_request" });
 * console.log(error.status); // 400
 * ```
 */
export class BadRequestError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(message, options);
    this.name = "BadRequestError";
  }
}

/**
 * 404: an unknown model (`model_not_found`) or path (`not_found`).
 *
 * @example
 * ```ts
 * import { BadRequestError, NotFoundError } from "./mod.ts";
 *
 * const error = new NotFoundError("No such model", { status: 404, code: "model_not_found" });
 * console.log(error instanceof BadRequestError); // true
 * ```
 */
export class NotFoundError extends BadRequestError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(message, options);
    this.name = "NotFoundError";
  }
}

/**
 * 401: a missing, malformed, unknown, revoked or expired API key.
 *
 * @example
 * ```ts
 * import { AuthenticationError } from "./mod.ts";
 *
 * const error = new AuthenticationError("Invalid API key provided", { status: 401 });
 * console.log(error.message);
 * ```
 */
export class AuthenticationError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(message, options);
    this.name = "AuthenticationError";
  }
}

/**
 * 403: the key may not use this model, endpoint or client address.
 *
 * @example
 * ```ts
 * import { PermissionDeniedError } from "./mod.ts";
 *
 * const error = new PermissionDeniedError("Not allowed", { status: 403, code: "model_not_allowed" });
 * console.log(error.code);
 * ```
 */
export class PermissionDeniedError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(message, options);
    this.name = "PermissionDeniedError";
  }
}

/**
 * 429: the key's request or token limit is reached; `retryAfter` says for how many seconds.
 *
 * @example
 * ```ts
 * import { RateLimitError } from "./mod.ts";
 *
 * const error = new RateLimitError("Slow down", {
 *   status: 429,
 *   headers: new Headers({ "retry-after": "3" }),
 * });
 * console.log(error.retryAfter); // 3
 * ```
 */
export class RateLimitError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(message, options);
    this.name = "RateLimitError";
  }
}

/**
 * 5xx: the gateway or the provider behind it failed (500, 502, 503, 504).
 *
 * @example
 * ```ts
 * import { InternalServerError } from "./mod.ts";
 *
 * const error = new InternalServerError("Overloaded", { status: 503, code: "upstream_overloaded" });
 * console.log(error.status);
 * ```
 */
export class InternalServerError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(message, options);
    this.name = "InternalServerError";
  }
}

/** A class of {@linkcode APIError} with its usual constructor. */
type APIErrorClass = new (message: string, options?: APIErrorOptions) => APIError;

const BY_STATUS: ReadonlyMap<number, APIErrorClass> = new Map<number, APIErrorClass>([
  [400, BadRequestError],
  [401, AuthenticationError],
  [403, PermissionDeniedError],
  [404, NotFoundError],
  [429, RateLimitError],
]);

const BY_TYPE: ReadonlyMap<string, APIErrorClass> = new Map<string, APIErrorClass>([
  ["invalid_request_error", BadRequestError],
  ["authentication_error", AuthenticationError],
  ["permission_error", PermissionDeniedError],
  ["rate_limit_error", RateLimitError],
]);

/** The error class for an HTTP error status. */
export function errorClassForStatus(status: number): APIErrorClass {
  const known = BY_STATUS.get(status);
  if (known !== undefined) return known;
  if (status >= 400 && status < 500) return BadRequestError;
  if (status >= 500 && status < 600) return InternalServerError;
  return APIError;
}

/** The error class for an error event inside a stream (which has no HTTP status). */
export function errorClassForType(type: string | null): APIErrorClass {
  return (type === null ? undefined : BY_TYPE.get(type)) ?? APIError;
}

/** The longest `Retry-After` taken at face value, in seconds (a day). */
const MAX_RETRY_AFTER_HEADER = 24 * 3600;

/**
 * Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date); `undefined`
 * when neither is present or readable.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from "./errors.ts";
 *
 * console.log(parseRetryAfter(new Headers({ "retry-after": "2" }))); // 2
 * ```
 */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const value = Number(ms) / 1000;
    if (Number.isFinite(value)) return clamp(value);
  }
  const raw = headers.get("retry-after")?.trim();
  if (raw === undefined || raw === "") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return clamp(seconds);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : clamp((date - now) / 1000);
}

function clamp(seconds: number): number {
  return Math.min(Math.max(seconds, 0), MAX_RETRY_AFTER_HEADER);
}
