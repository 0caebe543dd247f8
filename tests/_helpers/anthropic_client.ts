/** The official `@anthropic-ai/sdk` client pointed at a gateway, without retries. */
import Anthropic from "@anthropic-ai/sdk";
import { CLIENT_KEY, type TestGateway } from "./gateway.ts";

/**
 * A client sending the key as `Authorization: Bearer` (how `@anthropic-ai/sdk` 1.16 sends both
 * `apiKey` and `authToken`), or as `x-api-key` (how Claude Code with `ANTHROPIC_API_KEY` and
 * Vercel AI SDK's anthropic provider send it) with no `Authorization` header.
 */
export function anthropicClient(
  gateway: TestGateway,
  options: { key?: string; header?: "bearer" | "x-api-key" } = {},
): Anthropic {
  const key = options.key ?? CLIENT_KEY;
  if (options.header === "x-api-key") {
    return new Anthropic({
      apiKey: key,
      baseURL: gateway.url,
      maxRetries: 0,
      defaultHeaders: { "x-api-key": key, authorization: null },
    });
  }
  return new Anthropic({ authToken: key, baseURL: gateway.url, maxRetries: 0 });
}
