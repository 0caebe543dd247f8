/**
 * Gateway errors in the Messages dialect's shape, `{"type":"error","error":{"type","message",
 * "code"}}`, with the same status, message and code as the chat completions error table, so an
 * Anthropic SDK raises the class of the status and reads `error.type`.
 */
import { type GatewayError, toGatewayError } from "../../errors.ts";

/** Anthropic's `error.type` values. */
export type MessagesErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "billing_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "timeout_error"
  | "overloaded_error";

/** The Messages error body. */
export interface MessagesErrorBody {
  type: "error";
  error: { type: MessagesErrorType; message: string; code: string | null };
}

const BY_STATUS: Readonly<Record<number, MessagesErrorType>> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  502: "api_error",
  503: "overloaded_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/**
 * Anthropic's error type for a status: 400 `invalid_request_error`, 401
 * `authentication_error`, 402 `billing_error`, 403 `permission_error`, 404 `not_found_error`, 413
 * `request_too_large`, 429 `rate_limit_error`, 500 and 502 `api_error`, 503 and 529
 * `overloaded_error`, 504 `timeout_error`; any other 4xx `invalid_request_error` (405, 408, 415),
 * anything else `api_error`.
 */
export function messagesErrorType(status: number): MessagesErrorType {
  const known = BY_STATUS[status];
  if (known !== undefined) return known;
  return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
}

/**
 * The Messages body of a gateway error; the gateway's `code` is kept. A used-up budget
 * (`insufficient_quota`, 429) is Anthropic's `billing_error`, whatever its status.
 *
 * @example Usage
 * ```ts
 * import { errors } from "../../errors.ts";
 * import { toMessagesErrorBody } from "./errors.ts";
 * toMessagesErrorBody(errors.invalidRequest("Invalid value for 'model'", "model"));
 * // {type: "error", error: {type: "invalid_request_error", message: "Invalid value for 'model'", code: "invalid_request"}}
 * ```
 */
export function toMessagesErrorBody(error: GatewayError): MessagesErrorBody {
  return {
    type: "error",
    error: {
      type: error.code === "insufficient_quota" ? "billing_error" : messagesErrorType(error.status),
      message: error.message,
      code: error.code,
    },
  };
}

/**
 * The JSON response for an error (anything thrown: unknown errors become the generic 500), with
 * the error's status and headers (`retry-after`, `www-authenticate`, `allow`, …) and `headers`.
 * A 401 also says `x-should-retry: false`: Claude Code retries a 401 ten times with backoff (for
 * minutes) unless told that a retry cannot help, and a rejected gateway key does not get better.
 */
export function messagesErrorResponse(error: unknown, headers?: HeadersInit): Response {
  const gatewayError = toGatewayError(error);
  const response = Response.json(toMessagesErrorBody(gatewayError), {
    status: gatewayError.status,
    ...(headers === undefined ? {} : { headers }),
  });
  if (gatewayError.status === 401) response.headers.set("x-should-retry", "false");
  for (const [name, value] of Object.entries(gatewayError.headers)) {
    response.headers.set(name, value);
  }
  return response;
}

/** The SSE event that ends a failed Messages stream: `event: error` with the error body. */
export function messagesErrorEvent(error: GatewayError): string {
  return `event: error\ndata: ${JSON.stringify(toMessagesErrorBody(error))}\n\n`;
}
