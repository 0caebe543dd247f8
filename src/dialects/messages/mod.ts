/**
 * The Anthropic Messages dialect (`POST /v1/messages`, `POST /v1/messages/count_tokens`) over the
 * canonical chat completion form: request parsing, the translation to the canonical request for
 * providers other than Anthropic, and the answer, stream and errors back in Messages' shape.
 * Every function here is pure.
 */
export {
  type ContentBlock,
  type MessageParam,
  type MessagesCountTokensRequest,
  type MessagesRequest,
  parseMessagesCountTokensRequest,
  parseMessagesRequest,
} from "./schema.ts";
export {
  effortOfBudget,
  estimateInputTokens,
  MAX_STOP_SEQUENCES,
  toChatRequest,
} from "./request.ts";
export {
  type MessagesContentBlock,
  type MessagesContext,
  type MessagesResponse,
  toMessagesResponse,
} from "./response.ts";
export { createMessagesSseWriter, type MessagesStreamContext, pingEvent } from "./stream.ts";
export {
  type MessagesErrorBody,
  messagesErrorEvent,
  messagesErrorResponse,
  type MessagesErrorType,
  messagesErrorType,
  toMessagesErrorBody,
} from "./errors.ts";
export type { MessagesUsage, StopReason } from "./_finish.ts";
