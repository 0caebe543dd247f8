/**
 * The OpenAI Responses dialect (`POST /v1/responses`, `GET`/`DELETE /v1/responses/{id}`,
 * `GET /v1/responses/{id}/input_items`) over the canonical chat completion form: request
 * parsing, the translation to the canonical request for providers other than OpenAI and Azure
 * OpenAI, the answer and stream back in Responses' shape, and the stored-responses interface.
 * Errors are OpenAI-shaped (`errorResponse`). Every function here is pure; the stores are
 * `src/usage/responses_store.ts` (SQLite) and `src/db/responses_store.ts` (PostgreSQL).
 */
export {
  type ContentPart,
  type InputItem,
  itemType,
  parseResponsesRequest,
  type ResponsesRequest,
} from "./schema.ts";
export { type ChatRequestSources, toChatRequest } from "./request.ts";
export { type ItemSources, type PlacedItem, type ResponseItem, toChatMessages } from "./items.ts";
export {
  flattenTools,
  type FlatTool,
  type ToolName,
  type ToolNames,
  toolNames,
} from "./tool_names.ts";
export {
  type FunctionCallOutput,
  type ItemIdPrefix,
  type MessageOutput,
  type OutputItem,
  type ReasoningOutput,
  type ResponseObject,
  type ResponsesContext,
  type ResponseStatus,
  type ResponseUsage,
  toChatUsage,
  toResponseObject,
  toResponseUsage,
} from "./output.ts";
export { toResponsesResponse } from "./response.ts";
export { type NativeSources, withStoredItems } from "./native.ts";
export { createResponsesSseWriter, type ResponsesSseWriter } from "./stream.ts";
export {
  type InputItemsQuery,
  type ItemList,
  type NativeResponse,
  pageItems,
  parseInputItemsQuery,
  previousResponseNotFound,
  referencedItemIds,
  responseNotFound,
  type ResponseRecord,
  type ResponsesStore,
  type StoredResponse,
  toStoredInputItems,
} from "./store.ts";
