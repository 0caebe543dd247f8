/** The endpoint paths a key's `endpoints` scope may name (what the gateway serves behind auth). */
export const ENDPOINTS: readonly string[] = [
  "/v1/chat/completions",
  "/v1/embeddings",
  "/v1/messages",
  "/v1/messages/count_tokens",
  "/v1/models",
];
