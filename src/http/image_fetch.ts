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
import { errors, GatewayError } from "../errors.ts";
import type { ChatCompletionRequest } from "../openai/schema.ts";
import { readAtMost } from "./bounded_read.ts";

/** The largest image fetched: 20 MiB. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/** The most image URLs fetched for one request. */
export const MAX_IMAGE_URLS = 16;

/**
 * The most bytes fetched for one request, all images together: 64 MiB. Sent inline as base64
 * (4/3 larger, about 85 MiB), they stay under Gemini's 100 MB limit for a request's inline data.
 */
export const MAX_REQUEST_IMAGE_BYTES = 64 * 1024 * 1024;

/** What fetching image URLs needs from the outside, and its limits. */
export interface ImageFetchDeps {
  readonly fetch: typeof fetch;
  /** Resolves a host name to its IPv4 and IPv6 addresses. */
  readonly resolve: (host: string) => Promise<string[]>;
  /** The largest image ({@linkcode MAX_IMAGE_BYTES}). */
  readonly maxBytes: number;
  /** The most image URLs of one request ({@linkcode MAX_IMAGE_URLS}); more is a 400. */
  readonly maxImages: number;
  /** The most bytes of one request's images together ({@linkcode MAX_REQUEST_IMAGE_BYTES}). */
  readonly maxTotalBytes: number;
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

/** Where an image is and how many bytes this request may still fetch. */
interface ImageToFetch {
  readonly url: URL;
  /** `messages[i].content[j].image_url`. */
  readonly param: string;
  /** Bytes left of the request's {@linkcode ImageFetchDeps.maxTotalBytes}. */
  readonly remaining: number;
}

async function fetchAsDataUrl(
  image: ImageToFetch,
  deps: ImageFetchDeps,
): Promise<{ url: string; bytes: number } | GatewayError> {
  const { url, param } = image;
  const refuse = (why: string) =>
    errors.invalidRequest(`Cannot use the image at ${param}: ${why}`, param);
  const maxBytes = Math.min(deps.maxBytes, image.remaining);
  const tooLarge = () =>
    refuse(
      maxBytes < deps.maxBytes
        ? `the images fetched for one request may total at most ${deps.maxTotalBytes} bytes ` +
          "(all images of one request together); send some as base64 data: URLs"
        : `it is larger than ${deps.maxBytes} bytes`,
    );
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
  if (declared > maxBytes) {
    await response.body?.cancel();
    return tooLarge();
  }
  let bytes: Uint8Array;
  try {
    bytes = response.body === null
      ? new Uint8Array()
      : await readAtMost(response.body.getReader(), { maxBytes, tooLarge });
  } catch (error) {
    if (error instanceof GatewayError) return error;
    return refuse(`it could not be read within ${deps.timeoutMs} ms`);
  }
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return { url: `data:${type};base64,${btoa(binary)}`, bytes: bytes.byteLength };
}

/** An `image_url` part's http(s) URL, or undefined for anything else. */
function httpImageUrl(part: { type: string; image_url?: unknown }): URL | undefined {
  const image = part.type === "image_url" ? part.image_url as { url?: unknown } : undefined;
  const url = typeof image?.url === "string" && URL.canParse(image.url)
    ? new URL(image.url)
    : undefined;
  return url?.protocol === "http:" || url?.protocol === "https:" ? url : undefined;
}

/**
 * Returns the request with every http(s) `image_url` replaced by a `data:` URL, or a 400: for
 * more than `maxImages` such URLs (before fetching any), for an image past `maxBytes` or past
 * what is left of `maxTotalBytes`, or for an image it must not or cannot fetch.
 */
export async function inlineImageUrls(
  chat: ChatCompletionRequest,
  deps: ImageFetchDeps,
): Promise<ChatCompletionRequest | GatewayError> {
  const count = chat.messages
    .flatMap((message) => Array.isArray(message.content) ? message.content : [])
    .filter((part) => httpImageUrl(part) !== undefined).length;
  if (count > deps.maxImages) {
    return errors.invalidRequest(
      `Too many image URLs: the gateway fetches at most ${deps.maxImages} image URLs for one ` +
        `request, and this one has ${count}; send the others as base64 data: URLs`,
      "messages",
    );
  }
  let remaining = deps.maxTotalBytes;
  const messages = [];
  for (const [i, message] of chat.messages.entries()) {
    if (!Array.isArray(message.content)) {
      messages.push(message);
      continue;
    }
    const content = [];
    for (const [j, part] of message.content.entries()) {
      const url = httpImageUrl(part);
      if (url === undefined) {
        content.push(part);
        continue;
      }
      const param = `messages[${i}].content[${j}].image_url`;
      const inlined = await fetchAsDataUrl({ url, param, remaining }, deps);
      if (inlined instanceof GatewayError) return inlined;
      remaining -= inlined.bytes;
      content.push({ ...part, image_url: { ...part.image_url as object, url: inlined.url } });
    }
    messages.push({ ...message, content });
  }
  return { ...chat, messages };
}
