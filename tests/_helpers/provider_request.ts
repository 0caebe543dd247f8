/** Sending an adapter's provider request from a test, as the gateway's upstream call does. */
import type { ProviderRequest } from "../../src/http/provider_request.ts";

/** `fetch(request.url, request.init())`: the request exactly as the gateway sends it. */
export function sendProviderRequest(request: ProviderRequest): Promise<Response> {
  return fetch(request.url, request.init());
}
