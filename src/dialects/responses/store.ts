/**
 * Stored Responses (`store`, default true): the interface the route writes and reads through,
 * and the pure pieces every implementation shares (the input items a response keeps, paging of
 * `GET /v1/responses/{id}/input_items`). The implementations are SQLite's
 * (`src/usage/responses_store.ts`) and PostgreSQL's (`src/db/responses_store.ts`); the rows both
 * keep are in `stored_rows.ts`.
 *
 * Everything is scoped to the key that made the response: another key's id reads as missing
 * (404), as does an expired one. A natively passed-through response (to OpenAI or Azure) is kept
 * by its provider: the store only records which provider made the id, so that `GET`, `DELETE`
 * and `previous_response_id` reach it.
 */
import { errors, GatewayError } from "../../errors.ts";
import type { ResponseItem } from "./items.ts";
import type { ItemIdPrefix, ResponseObject } from "./output.ts";
import { itemType, type ResponsesRequest } from "./schema.ts";

/** A response the gateway translated and keeps whole. */
export interface StoredResponse {
  readonly kind: "stored";
  readonly id: string;
  /** The provider that answered. */
  readonly provider: string;
  readonly response: ResponseObject;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** A response kept by the provider it passed through to: only its owner is recorded. */
export interface NativeResponse {
  readonly kind: "native";
  readonly id: string;
  /** The provider (as routed: `openai`, `azure-eu`, …) that made and keeps the id. */
  readonly provider: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export type ResponseRecord = StoredResponse | NativeResponse;

/** Paging of `input_items` (OpenAI's query parameters). */
export interface InputItemsQuery {
  /** An item id: list the items after it (in the chosen order). */
  readonly after?: string | undefined;
  /** An item id: list the items before it (in the chosen order). */
  readonly before?: string | undefined;
  /** 1 to 100; default 20. */
  readonly limit?: number | undefined;
  /** Default `desc` (newest first), as in OpenAI. */
  readonly order?: "asc" | "desc" | undefined;
}

/** OpenAI's list shape. */
export interface ItemList {
  object: "list";
  data: ResponseItem[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** Where stored responses live. Every method is scoped to `keyId`. */
export interface ResponsesStore {
  /** Keeps a translated response, its input items ({@linkcode toStoredInputItems}), its output. */
  save(entry: {
    keyId: string;
    response: ResponseObject;
    input: readonly ResponseItem[];
    provider: string;
  }): Promise<void>;
  /** Records which provider made a natively passed-through response id. */
  saveNative(entry: {
    keyId: string;
    id: string;
    provider: string;
    previousResponseId?: string | null | undefined;
  }): Promise<void>;
  /** The record, or undefined when missing, expired or made with another key. */
  get(keyId: string, id: string): Promise<ResponseRecord | undefined>;
  /** Deletes a record and its items; false when there was none for this key. */
  delete(keyId: string, id: string): Promise<boolean>;
  /** A page of a stored response's input items; undefined when there is no such stored response. */
  inputItems(keyId: string, id: string, query?: InputItemsQuery): Promise<ItemList | undefined>;
  /**
   * The conversation `previous_response_id: id` continues: the input and output items of the
   * response and of its stored predecessors, oldest first (a deleted or expired predecessor ends
   * the walk); undefined when `id` is not a stored response of this key.
   */
  conversation(keyId: string, id: string): Promise<ResponseItem[] | undefined>;
  /** Stored input and output items by id (for `item_reference`); missing ids are left out. */
  items(keyId: string, ids: readonly string[]): Promise<Map<string, ResponseItem>>;
  /** Deletes every expired record now; returns how many responses went. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}

/** The ids the request's `item_reference` items name, to read with `ResponsesStore.items`. */
export function referencedItemIds(request: ResponsesRequest): string[] {
  if (!Array.isArray(request.input)) return [];
  const ids = request.input.flatMap((item) =>
    itemType(item) === "item_reference" && typeof item.id === "string" ? [item.id] : []
  );
  return [...new Set(ids)];
}

const ID_PREFIX: Readonly<Record<string, ItemIdPrefix>> = {
  message: "msg",
  function_call: "fc",
  function_call_output: "fco",
  reasoning: "rs",
};

function normalized(item: ResponseItem, newItemId: (prefix: ItemIdPrefix) => string) {
  const type = itemType(item);
  const id = typeof item.id === "string" && item.id !== ""
    ? item.id
    : newItemId(ID_PREFIX[type] ?? "msg");
  if (type !== "message") {
    const status = type === "reasoning" ? {} : { status: item.status ?? "completed" };
    return { ...item, id, type, ...status };
  }
  const role = item.role;
  const content = typeof item.content === "string"
    ? [
      role === "assistant"
        ? { type: "output_text", text: item.content, annotations: [] }
        : { type: "input_text", text: item.content },
    ]
    : item.content;
  return { ...item, id, type, role, content, status: item.status ?? "completed" };
}

/**
 * The input items a stored response keeps, as `input_items` lists them: a string input is one
 * user message; every item gets an id (`msg_…`, `fc_…`, `fco_…`, `rs_…`) when it has none,
 * a `type`, and a `status`; string message content becomes one `input_text` (`output_text` for
 * the assistant) part; an `item_reference` is replaced by the item it names (from `items`, as
 * read for the translation), so a later conversation never needs to look it up again.
 */
export function toStoredInputItems(
  request: ResponsesRequest,
  options: {
    items?: ReadonlyMap<string, ResponseItem> | undefined;
    newItemId: (prefix: ItemIdPrefix) => string;
  },
): ResponseItem[] {
  const input = request.input ?? [];
  const items: readonly ResponseItem[] = typeof input === "string"
    ? [{ type: "message", role: "user", content: input }]
    : input;
  return items.flatMap((item) => {
    if (itemType(item) !== "item_reference") return [normalized(item, options.newItemId)];
    const found = options.items?.get(String(item.id));
    return found === undefined ? [] : [found];
  });
}

/**
 * Reads `input_items`' query parameters: `limit` (1 to 100), `order` (`asc` or `desc`),
 * `after`, `before`; others are ignored (`include`). A bad value is a 400 naming it.
 */
export function parseInputItemsQuery(params: URLSearchParams): InputItemsQuery | GatewayError {
  const query: { -readonly [K in keyof InputItemsQuery]: InputItemsQuery[K] } = {};
  const limit = params.get("limit");
  if (limit !== null) {
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 100) {
      return errors.invalidRequest(
        `Invalid value for 'limit': must be an integer from 1 to 100, got "${limit.slice(0, 20)}"`,
        "limit",
      );
    }
    query.limit = Number(limit);
  }
  const order = params.get("order");
  if (order !== null) {
    if (order !== "asc" && order !== "desc") {
      return errors.invalidRequest("Invalid value for 'order': must be asc or desc", "order");
    }
    query.order = order;
  }
  for (const cursor of ["after", "before"] as const) {
    const value = params.get(cursor);
    if (value !== null && value !== "") query[cursor] = value;
  }
  return query;
}

/**
 * One page of items (kept in input order) for a query: ordered, cut after `after` / before
 * `before` (an unknown cursor gives an empty page), at most `limit`.
 */
export function pageItems(items: readonly ResponseItem[], query: InputItemsQuery = {}): ItemList {
  let ordered = query.order === "asc" ? [...items] : [...items].reverse();
  const at = (id: string) => ordered.findIndex((item) => item.id === id);
  if (query.after !== undefined) {
    const start = at(query.after);
    ordered = start < 0 ? [] : ordered.slice(start + 1);
  }
  if (query.before !== undefined) {
    const end = at(query.before);
    ordered = end < 0 ? [] : ordered.slice(0, end);
  }
  const limit = Math.min(100, Math.max(1, Math.trunc(query.limit ?? 20)));
  const data = query.before !== undefined ? ordered.slice(-limit) : ordered.slice(0, limit);
  const idOf = (item: ResponseItem | undefined) => typeof item?.id === "string" ? item.id : null;
  return {
    object: "list",
    data,
    first_id: idOf(data[0]),
    last_id: idOf(data.at(-1)),
    has_more: ordered.length > data.length,
  };
}

/** The 404 for a response id that is unknown, expired or another key's (GET, DELETE, input_items). */
export function responseNotFound(id: string): GatewayError {
  return errors.notFound(`Response with id '${id.slice(0, 100)}' not found.`);
}

/** The 404 for a `previous_response_id` that is unknown, expired or another key's. */
export function previousResponseNotFound(id: string): GatewayError {
  return new GatewayError(`Previous response with id '${id.slice(0, 100)}' not found.`, {
    status: 404,
    type: "invalid_request_error",
    code: "previous_response_not_found",
    param: "previous_response_id",
  });
}
