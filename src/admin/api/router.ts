/**
 * The admin API's route table: which handler serves a method and path under `/admin/api/`. An
 * unknown path is 404 `not_found` and a wrong method 405 (with `Allow`), answered after the
 * admin check like every other path, so outsiders cannot map the API.
 */
import { errors, type GatewayError } from "../../errors.ts";
import { readRequestBody, type RequestContext, type RouteDeps } from "../../routes/context.ts";
import { ADMIN_API_PREFIX } from "../headers.ts";
import type { AdminApiDeps } from "./deps.ts";
import { createKeyRoute, listKeys, patchKeyRoute, revokeKeyRoute, rotateKeyRoute } from "./keys.ts";
import { overview } from "./overview.ts";
import { providers } from "./providers.ts";
import { usage } from "./usage.ts";

/** One call of the admin API. */
export interface AdminCall {
  readonly request: Request;
  /** The query string's parameters. */
  readonly query: URLSearchParams;
  /** The `{id}` of the path, decoded, when it has one. */
  readonly id: string | undefined;
  readonly api: AdminApiDeps;
  /** Who calls: the admin key's id (or `dev` on loopback in development mode), for logs. */
  readonly actor: string;
  /** Reads the JSON body within the gateway's size and time limits. */
  body(): Promise<unknown>;
}

type AdminHandler = (call: AdminCall) => Promise<Response>;

/** Paths relative to `/admin/api/`; `{id}` matches one segment. */
const ROUTES: ReadonlyArray<readonly [string, Readonly<Record<string, AdminHandler>>]> = [
  ["overview", { GET: overview }],
  ["keys", { GET: listKeys, POST: createKeyRoute }],
  ["keys/{id}", { PATCH: patchKeyRoute }],
  ["keys/{id}/revoke", { POST: revokeKeyRoute }],
  ["keys/{id}/rotate", { POST: rotateKeyRoute }],
  ["usage", { GET: usage }],
  ["providers", { GET: providers }],
];

/** The route of `segments`, and the `{id}` it matched. */
function match(segments: readonly string[]) {
  for (const [pattern, methods] of ROUTES) {
    const parts = pattern.split("/");
    if (parts.length !== segments.length) continue;
    let id: string | undefined;
    let matched = true;
    for (let i = 0; i < parts.length && matched; i++) {
      const segment = segments[i] ?? "";
      if (parts[i] === "{id}" && segment !== "") id = segment;
      else matched = parts[i] === segment;
    }
    if (matched) return { methods, id };
  }
  return undefined;
}

/**
 * The handler of `method` and `path` (under `/admin/api/`), or the 404 / 405 to answer.
 */
export function findAdminRoute(
  method: string,
  path: string,
): ((request: Request, ctx: RequestContext, deps: RouteDeps) => Promise<Response>) | GatewayError {
  const found = match(path.slice(ADMIN_API_PREFIX.length).split("/"));
  if (found === undefined) return errors.notFound(`Unknown path: ${method} ${path}`);
  const handler = found.methods[method];
  if (handler === undefined) return errors.methodNotAllowed(method, Object.keys(found.methods));
  let id: string | undefined;
  try {
    id = found.id === undefined ? undefined : decodeURIComponent(found.id);
  } catch {
    return errors.notFound(`Unknown path: ${method} ${path}`);
  }
  return (request, ctx, deps) => {
    if (deps.admin === undefined) throw new Error("The admin API has no dependencies");
    return handler({
      request,
      query: new URL(request.url).searchParams,
      id,
      api: deps.admin,
      actor: ctx.principal.id,
      body: () => readRequestBody(request, ctx, deps),
    });
  };
}
