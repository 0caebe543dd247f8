/**
 * The client dialects and what differs between them around a route: how the client's key is
 * read and how an error is rendered. The server picks the dialect by path before anything else,
 * so every error of an endpoint (authentication, unknown path, wrong method, limits, upstream
 * failures) has that endpoint's shape, rendered in one place.
 */
import {
  parseAuthorization,
  type ParsedAuthorization,
  parseMessagesCredentials,
} from "../auth/authorization.ts";
import { errorResponse, type GatewayError } from "../errors.ts";
import { messagesErrorResponse } from "./messages/errors.ts";

/** One client dialect. */
export interface Dialect {
  readonly name: "openai" | "messages";
  /** The client's key from the request headers, or the 401 to answer. */
  credentials(headers: Headers): ParsedAuthorization;
  /** The error response in the dialect's shape (status and error headers kept). */
  renderError(error: GatewayError): Response;
}

/** OpenAI's dialect (Chat Completions, embeddings, models): `Authorization: Bearer` only. */
export const OPENAI_DIALECT: Dialect = {
  name: "openai",
  credentials: (headers) => parseAuthorization(headers.get("authorization")),
  renderError: (error) => errorResponse(error),
};

/** Anthropic's Messages dialect: Bearer or `x-api-key`; Anthropic-shaped errors. */
export const MESSAGES_DIALECT: Dialect = {
  name: "messages",
  credentials: (headers) =>
    parseMessagesCredentials(headers.get("authorization"), headers.get("x-api-key")),
  renderError: (error) => messagesErrorResponse(error),
};

const MESSAGES_PATH = "/v1/messages";

/**
 * The dialect of a path: `/v1/messages` and every path under it (known or not) speak Messages,
 * everything else OpenAI.
 *
 * @example Usage
 * ```ts
 * import { dialectOf } from "./dialect.ts";
 * dialectOf("/v1/messages/count_tokens").name; // "messages"
 * dialectOf("/v1/chat/completions").name; // "openai"
 * ```
 */
export function dialectOf(path: string): Dialect {
  return path.startsWith(MESSAGES_PATH) &&
      (path.length === MESSAGES_PATH.length || path[MESSAGES_PATH.length] === "/")
    ? MESSAGES_DIALECT
    : OPENAI_DIALECT;
}
