/**
 * The gateway's paths: the route table (which handler serves a method and path), the endpoint a
 * path counts as for key scopes, usage records and metrics, and which paths are limited or for
 * operators only. Pure.
 */
import { errors, type GatewayError } from "../errors.ts";
import type { GatewayMetrics } from "../observe/metrics.ts";
import { OTHER } from "../observe/labels.ts";
import { handleChatCompletions } from "./chat_completions.ts";
import type { RequestContext, RouteDeps } from "./context.ts";
import { handleEmbeddings } from "./embeddings.ts";
import { handleCountTokens, handleMessages } from "./messages.ts";
import { handleGetModel, handleListModels } from "./models.ts";
import { handleCreateResponse } from "./responses.ts";
import {
  handleDeleteResponse,
  handleListInputItems,
  handleRetrieveResponse,
} from "./response_resources.ts";

/**
 * Endpoints whose requests count against a key's limits (`count_tokens` counts as a request and
 * reserves no tokens). Only `POST /v1/responses` is: reading or deleting a stored response is not.
 */
export const LIMITED_ENDPOINTS: ReadonlySet<string> = new Set([
  "/v1/chat/completions",
  "/v1/embeddings",
  "/v1/messages",
  "/v1/messages/count_tokens",
  "/v1/responses",
]);

export type RouteHandler = (
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
) => Promise<Response>;

const ROUTES: Readonly<Record<string, Readonly<Record<string, RouteHandler>>>> = {
  "/v1/chat/completions": { POST: handleChatCompletions },
  "/v1/embeddings": { POST: handleEmbeddings },
  "/v1/messages": { POST: handleMessages },
  "/v1/messages/count_tokens": { POST: handleCountTokens },
  "/v1/models": { GET: (_request, ctx, deps) => handleListModels(ctx, deps) },
  "/v1/responses": { POST: handleCreateResponse },
  "/metrics": { GET: (_request, _ctx, deps) => renderMetrics(deps.metrics) },
};

/** The Prometheus exposition, never cached; 404 when metrics are off. */
async function renderMetrics(metrics: GatewayMetrics | undefined): Promise<Response> {
  if (metrics === undefined) {
    throw errors.notFound("Metrics are turned off (CHOREOAI_METRICS=false)");
  }
  return new Response(await metrics.render(), {
    headers: { "content-type": metrics.contentType, "cache-control": "no-store" },
  });
}

const MODEL_PREFIX = "/v1/models/";
const MODEL_METHODS = ["GET"] as const;
const RESPONSES_PREFIX = "/v1/responses/";

type ResourceHandler = (
  id: string,
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
) => Promise<Response>;

const RESPONSE_ROUTES: Readonly<Record<string, Readonly<Record<string, ResourceHandler>>>> = {
  "": { GET: handleRetrieveResponse, DELETE: handleDeleteResponse },
  "/input_items": { GET: handleListInputItems },
};

/** `/v1/responses/{id}` and `/v1/responses/{id}/input_items`. */
function findResponseRoute(method: string, path: string): RouteHandler | GatewayError {
  const rest = path.slice(RESPONSES_PREFIX.length);
  const slash = rest.indexOf("/");
  const rawId = slash < 0 ? rest : rest.slice(0, slash);
  const methods = RESPONSE_ROUTES[slash < 0 ? "" : rest.slice(slash)];
  if (rawId === "" || methods === undefined) {
    return errors.notFound(`Unknown path: ${method} ${path}`);
  }
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    return errors.notFound(`Unknown path: ${method} ${path}`);
  }
  const handler = methods[method];
  if (handler === undefined) return errors.methodNotAllowed(method, Object.keys(methods));
  return (request, ctx, deps) => handler(id, request, ctx, deps);
}

/**
 * The endpoint a key's `endpoints` scope names for a path: `/v1/models` covers every model path,
 * `/v1/responses` every response path (`GET`/`DELETE /v1/responses/{id}`, `input_items`), and
 * `/admin` every path under it.
 */
export function endpointScopeOf(path: string): string {
  if (path.startsWith(MODEL_PREFIX)) return "/v1/models";
  if (path.startsWith(RESPONSES_PREFIX)) return "/v1/responses";
  if (path.startsWith("/admin/")) return "/admin";
  return path;
}

/**
 * Whether a path is the admin page itself: `/admin`, `/admin/` and `/admin/assets/…`. The page
 * holds no data (it calls the admin API with the key the operator types in), so these paths are
 * public: answered before authentication, by the page's handler (`AppDeps.adminPage`).
 */
export function isAdminPagePath(path: string): boolean {
  return path === "/admin" || path === "/admin/" || path.startsWith("/admin/assets/");
}

/**
 * Whether a path is for operators only: `/metrics`, and everything under `/admin/` but the page
 * ({@linkcode isAdminPagePath}). Such a request is admitted by {@linkcode admitAdmin} instead of
 * plain authentication.
 */
export function isAdminPath(path: string): boolean {
  if (path === "/metrics") return true;
  return path.startsWith("/admin/") && !isAdminPagePath(path);
}

/**
 * The endpoint a usage record names: a response path with its id written `{id}`
 * (`/v1/responses/{id}`, `/v1/responses/{id}/input_items`), so records of one endpoint read
 * alike; other paths as they are.
 */
export function recordedEndpoint(path: string): string {
  if (!path.startsWith(RESPONSES_PREFIX)) return path;
  return path.endsWith("/input_items") ? "/v1/responses/{id}/input_items" : "/v1/responses/{id}";
}

/**
 * The endpoint label of a path in metrics: a known path with its ids written `{id}`, or
 * `other` (whatever clients send, a bounded set).
 */
export function endpointLabel(path: string): string {
  if (path.startsWith(RESPONSES_PREFIX)) return recordedEndpoint(path);
  if (path.startsWith(MODEL_PREFIX)) return "/v1/models/{id}";
  if (path in ROUTES || path === "/health") return path;
  return OTHER;
}

export function findRoute(
  method: string,
  path: string,
): RouteHandler | GatewayError {
  if (path.startsWith(RESPONSES_PREFIX)) return findResponseRoute(method, path);
  if (path.startsWith(MODEL_PREFIX) && path.length > MODEL_PREFIX.length) {
    if (method !== "GET") return errors.methodNotAllowed(method, MODEL_METHODS);
    let id: string;
    try {
      id = decodeURIComponent(path.slice(MODEL_PREFIX.length));
    } catch {
      return errors.notFound(`No model path ${path}`);
    }
    return (_request, ctx, deps) => handleGetModel(id, ctx, deps);
  }
  const methods = ROUTES[path];
  if (methods === undefined) return errors.notFound(`Unknown path: ${method} ${path}`);
  const handler = methods[method];
  if (handler === undefined) return errors.methodNotAllowed(method, Object.keys(methods));
  return handler;
}

/**
 * The path of a served request's URL (always absolute: `http://host:port/path?query`). A plain
 * path is cut out of the string; one with dots, escapes or backslashes, which the URL parser
 * normalises, goes through it.
 */
export function pathOf(url: string): string {
  const authority = url.indexOf("//") + 2;
  const start = url.indexOf("/", authority);
  if (start < 0 || /[?#]/.test(url.slice(authority, start))) return new URL(url).pathname;
  let end = url.length;
  for (let i = start; i < url.length; i++) {
    const char = url.charCodeAt(i);
    if (char === 63 /* ? */ || char === 35 /* # */) {
      end = i;
      break;
    }
    if (char === 46 /* . */ || char === 37 /* % */ || char === 92 /* \ */) {
      return new URL(url).pathname;
    }
  }
  return url.slice(start, end);
}
