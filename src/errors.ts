/**
 * The gateway's one error type and its one renderer.
 *
 * Every failure a client can see is a {@linkcode GatewayError}; {@linkcode errorResponse}
 * turns it (or anything else that was thrown) into OpenAI's error shape. Unknown errors
 * become a generic 500 so that no stack trace or secret ever reaches a client.
 */

/** OpenAI's `error.type` values used by the gateway. */
export type GatewayErrorType =
  | "authentication_error"
  | "permission_error"
  | "rate_limit_error"
  | "invalid_request_error"
  | "server_error"
  | "api_error";

/** What a {@linkcode GatewayError} carries besides its message. */
export interface GatewayErrorOptions extends ErrorOptions {
  status: number;
  type: GatewayErrorType | string;
  code?: string | null;
  param?: string | null;
  /** Extra response headers, such as `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
}

/** An error meant for the client, with its HTTP status and OpenAI fields. */
export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(message: string, options: GatewayErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.status = options.status;
    this.type = options.type;
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  /** The `{"error": {...}}` body, in OpenAI's key order. */
  toJSON(): {
    error: { message: string; type: string; param: string | null; code: string | null };
  } {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }
}

const INTERNAL_MESSAGE = "The server had an error while processing your request";

/** Normalises anything thrown into a GatewayError; unknown errors become a generic 500. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError(INTERNAL_MESSAGE, {
    status: 500,
    type: "server_error",
    code: "internal_error",
    cause: error,
  });
}

/** Renders an error as an OpenAI-shaped JSON response. */
export function errorResponse(error: unknown, headers?: HeadersInit): Response {
  const gatewayError = toGatewayError(error);
  const response = Response.json(gatewayError.toJSON(), {
    status: gatewayError.status,
    ...(headers === undefined ? {} : { headers }),
  });
  for (const [name, value] of Object.entries(gatewayError.headers)) {
    response.headers.set(name, value);
  }
  return response;
}

/** Shorthands for the errors the gateway raises itself (DESIGN.md's error table). */
export const errors = {
  invalidRequest(message: string, param: string | null = null): GatewayError {
    return new GatewayError(message, {
      status: 400,
      type: "invalid_request_error",
      code: "invalid_request",
      param,
    });
  },
  invalidJson(message: string): GatewayError {
    return new GatewayError(message, {
      status: 400,
      type: "invalid_request_error",
      code: "invalid_json",
    });
  },
  notFound(message: string): GatewayError {
    return new GatewayError(message, {
      status: 404,
      type: "invalid_request_error",
      code: "not_found",
    });
  },
  modelNotFound(message: string): GatewayError {
    return new GatewayError(message, {
      status: 404,
      type: "invalid_request_error",
      code: "model_not_found",
      param: "model",
    });
  },
  methodNotAllowed(method: string, allow: readonly string[]): GatewayError {
    return new GatewayError(`Method ${method} is not allowed here: use ${allow.join(" or ")}`, {
      status: 405,
      type: "invalid_request_error",
      code: "method_not_allowed",
      headers: { allow: allow.join(", ") },
    });
  },
  unsupportedMediaType(contentType: string | null): GatewayError {
    const got = contentType === null ? "none" : `"${contentType.slice(0, 100)}"`;
    return new GatewayError(`Content-Type must be application/json, got ${got}`, {
      status: 415,
      type: "invalid_request_error",
      code: "unsupported_media_type",
    });
  },
  requestTooLarge(limit: number): GatewayError {
    return new GatewayError(`Request body is larger than the limit of ${limit} bytes`, {
      status: 413,
      type: "invalid_request_error",
      code: "request_too_large",
    });
  },
  requestTimeout(limitMs: number): GatewayError {
    return new GatewayError(`Request body was not received within ${limitMs} ms`, {
      status: 408,
      type: "invalid_request_error",
      code: "request_timeout",
    });
  },
  upstream(message: string, status = 502, cause?: unknown): GatewayError {
    return new GatewayError(message, {
      status,
      type: "api_error",
      code: "upstream_error",
      cause,
    });
  },
  upstreamTimeout(message: string): GatewayError {
    return new GatewayError(message, {
      status: 504,
      type: "api_error",
      code: "upstream_timeout",
    });
  },
  upstreamOverloaded(message: string): GatewayError {
    return new GatewayError(message, {
      status: 503,
      type: "api_error",
      code: "upstream_overloaded",
    });
  },
  /** The client went away before the answer (nginx's 499); only logs and records see it. */
  clientClosed(): GatewayError {
    return new GatewayError("The client closed the request before the answer", {
      status: 499,
      type: "invalid_request_error",
      code: "client_closed_request",
    });
  },
  shuttingDown(): GatewayError {
    return new GatewayError("The gateway is shutting down; retry the request", {
      status: 503,
      type: "api_error",
      code: "server_shutting_down",
    });
  },
} as const;
