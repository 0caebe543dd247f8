/**
 * The endpoint paths only admin keys may call: `/metrics`, and `/admin`, which covers every path
 * under it.
 */
export const ADMIN_ENDPOINTS: readonly string[] = ["/metrics", "/admin"];

/**
 * The endpoint paths a key's `endpoints` scope may name (what the gateway serves behind auth).
 * `/v1/models` covers `/v1/models/{id}`; `/v1/responses` covers `POST /v1/responses` and every
 * path under it (`GET`/`DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items`).
 */
export const ENDPOINTS: readonly string[] = [
  "/v1/chat/completions",
  "/v1/embeddings",
  "/v1/messages",
  "/v1/messages/count_tokens",
  "/v1/models",
  "/v1/responses",
  ...ADMIN_ENDPOINTS,
];
