/**
 * The body of a Responses request passed through to OpenAI or Azure OpenAI when it names what
 * only the gateway keeps: a `previous_response_id` of a response the gateway translated (stored
 * here, unknown to the provider), or `item_reference`s to items of such responses. The stored
 * items are written into `input`, so the provider sees the whole conversation. Pure.
 *
 * - the stored conversation comes first, then the request's own input (a string input as one
 *   user message), and `previous_response_id` is removed;
 * - an `item_reference` to a stored item becomes that item; one the store does not hold is left
 *   for the provider (it may be the provider's own);
 * - the inserted items lose their `id` (gateway ids mean nothing to the provider), and
 *   `reasoning` items without `encrypted_content` are left out (only OpenAI's own reasoning can
 *   be given back to it).
 */
import type { ResponseItem } from "./items.ts";
import { itemType, type ResponsesRequest } from "./schema.ts";

/** What the gateway's store holds for a request (see `ChatRequestSources`). */
export interface NativeSources {
  /** The stored conversation `previous_response_id` continues, oldest first. */
  readonly history?: readonly ResponseItem[] | undefined;
  /** Stored items by id, for the request's `item_reference`s. */
  readonly items?: ReadonlyMap<string, ResponseItem> | undefined;
}

/** A stored item as the provider may take it; undefined to leave it out. */
function forProvider(item: ResponseItem): ResponseItem | undefined {
  if (itemType(item) === "reasoning" && typeof item.encrypted_content !== "string") {
    return undefined;
  }
  if (itemType(item) === "reasoning") return item;
  const { id: _id, ...rest } = item;
  return rest;
}

/**
 * The body to pass through for `request` (whose JSON is `body`): `body` itself when nothing
 * stored is needed, else a copy with the stored items written in (see above).
 *
 * @example Usage
 * ```ts
 * import { parseResponsesRequest } from "./schema.ts";
 * import { withStoredItems } from "./native.ts";
 * const body = { model: "gpt-5", input: "And Rome?", previous_response_id: "resp_1" };
 * const parsed = parseResponsesRequest(body);
 * if (!parsed.ok) throw parsed.error;
 * withStoredItems(body, parsed.request, {
 *   history: [{ id: "msg_1", type: "message", role: "user", content: "Paris?" }],
 * });
 * // { model: "gpt-5", input: [{type: "message", role: "user", content: "Paris?"},
 * //   {type: "message", role: "user", content: "And Rome?"}] }
 * ```
 */
export function withStoredItems(
  body: Readonly<Record<string, unknown>>,
  request: ResponsesRequest,
  sources: NativeSources,
): Readonly<Record<string, unknown>> {
  const { history, items } = sources;
  const input = request.input;
  const references = Array.isArray(input) &&
    input.some((item) =>
      itemType(item) === "item_reference" && items?.has(String(item.id)) === true
    );
  if (history === undefined && !references) return body;
  const own: readonly ResponseItem[] = typeof input === "string"
    ? [{ type: "message", role: "user", content: input }]
    : input ?? [];
  const resolved = own.flatMap((item) => {
    if (itemType(item) !== "item_reference") return [item];
    const found = items?.get(String(item.id));
    if (found === undefined) return [item];
    const given = forProvider(found);
    return given === undefined ? [] : [given];
  });
  const earlier = (history ?? []).flatMap((item) => {
    const given = forProvider(item);
    return given === undefined ? [] : [given];
  });
  const { previous_response_id: _previous, ...rest } = body;
  return {
    ...(history === undefined ? body : rest),
    input: [...earlier, ...resolved],
  };
}
