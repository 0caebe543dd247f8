/**
 * Inlining `image_url` parts given as http(s) URLs, for Gemini-kind servers that cannot fetch
 * URLs themselves (Gemini's own API can). Off unless `CHOREOAI_FETCH_IMAGE_URLS=true`: fetching
 * on a client's behalf is a way into the operator's network, so every host is resolved first and
 * refused when any of its addresses is loopback, private, link-local or otherwise not public
 * unicast; redirects are not followed; bodies are capped in size and time and must be images.
 *
 * Residual risk, documented: the fetch resolves the name again, so a DNS answer that changes
 * between the check and the fetch (rebinding) is not caught here; operators who need that closed
 * should leave the feature off or put an egress proxy in front.
 */
import ipaddr from "ipaddr.js";
import { errors, type GatewayError } from "../errors.ts";
import type { ChatCompletionRequest } from "../openai/schema.ts";

/** What fetching image URLs needs from the outside. */
export interface ImageFetchDeps {
  readonly fetch: typeof fetch;
  /** Resolves a host name to its IPv4 and IPv6 addresses. */
  readonly resolve: (host: string) => Promise<string[]>;
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

/** Whether an address is a public unicast one a gateway may fetch from. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === "unicast";
}

async function addressesOf(host: string, deps: ImageFetchDeps): Promise<string[]> {
  const bare = host.replace(/^\[|\]$/g, "");
  return ipaddr.isValid(bare) ? [bare] : await deps.resolve(bare);
}

async function fetchAsDataUrl(
  url: URL,
  param: string,
  deps: ImageFetchDeps,
): Promise<string | GatewayError> {
  const refuse = (why: string) =>
    errors.invalidRequest(`Cannot use the image at ${param}: ${why}`, param);
  let addresses: string[];
  try {
    addresses = await addressesOf(url.hostname, deps);
  } catch {
    return refuse("its host name does not resolve");
  }
  if (addresses.length === 0 || !addresses.every(isPublicAddress)) {
    return refuse("its host is not a public address");
  }
  let response: Response;
  try {
    response = await deps.fetch(url, {
      redirect: "manual",
      signal: AbortSignal.timeout(deps.timeoutMs),
      headers: { accept: "image/*" },
    });
  } catch {
    return refuse(`it could not be fetched within ${deps.timeoutMs} ms`);
  }
  const type = response.headers.get("content-type")?.split(";")[0]?.trim() ?? "";
  if (!response.ok || !type.startsWith("image/")) {
    await response.body?.cancel();
    return refuse(`the server answered HTTP ${response.status} with ${type || "no content type"}`);
  }
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > deps.maxBytes) {
    await response.body?.cancel();
    return refuse(`it is larger than ${deps.maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? ReadableStream.from([])) {
      size += chunk.byteLength;
      if (size > deps.maxBytes) {
        await response.body?.cancel().catch(() => {});
        return refuse(`it is larger than ${deps.maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } catch {
    return refuse(`it could not be read within ${deps.timeoutMs} ms`);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return `data:${type};base64,${btoa(binary)}`;
}

/** Returns the request with every http(s) `image_url` replaced by a `data:` URL, or a 400. */
export async function inlineImageUrls(
  chat: ChatCompletionRequest,
  deps: ImageFetchDeps,
): Promise<ChatCompletionRequest | GatewayError> {
  const messages = [];
  for (const [i, message] of chat.messages.entries()) {
    if (!Array.isArray(message.content)) {
      messages.push(message);
      continue;
    }
    const content = [];
    for (const [j, part] of message.content.entries()) {
      const image = part.type === "image_url" ? part.image_url as { url?: unknown } : undefined;
      const url = typeof image?.url === "string" && URL.canParse(image.url)
        ? new URL(image.url)
        : undefined;
      if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
        content.push(part);
        continue;
      }
      const inlined = await fetchAsDataUrl(url, `messages[${i}].content[${j}].image_url`, deps);
      if (typeof inlined !== "string") return inlined;
      content.push({ ...part, image_url: { ...image, url: inlined } });
    }
    messages.push({ ...message, content });
  }
  return { ...chat, messages };
}
