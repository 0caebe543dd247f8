/**
 * A fake of the admin JSON API (`/admin/api/…`, /work/notes/admin_api_contract.md) for the
 * browser tests until the real one is in the gateway: keys live in memory (the gateway's
 * verifier reads them, so a key made here works at once, and a revoked one is refused), and the
 * statistics come from the gateway's own usage records. Replace it with the real API, then
 * delete it.
 */
import { errorResponse, GatewayError } from "../../src/errors.ts";
import { parseAuthorization } from "../../src/auth/authorization.ts";
import type { KeyVerifier } from "../../src/auth/verifier.ts";
import { digestKey, generateKey, keyHint } from "../../src/keys/generate.ts";
import type { KeyRecord } from "../../src/keys/key_file.ts";
import { keyStatus } from "../../src/keys/status.ts";
import type { UsageRecord } from "../../src/usage/recorder.ts";
import { ADMIN_SECURITY_HEADERS } from "../../src/admin/page.ts";
import {
  type Json,
  overview,
  type Period,
  providers,
  usage,
  usageCsv,
} from "./_fake_admin_stats.ts";

/** What the fake reads and changes. */
export interface FakeAdminState {
  /** The key list, changed in place; `changed()` is called after each change. */
  readonly keys: KeyRecord[];
  changed(): void;
  readonly records: readonly UsageRecord[];
  readonly verifier: KeyVerifier;
  /** Targets the providers page lists even when idle. */
  readonly targets: readonly string[];
}

function fail(status: number, code: string, message: string): never {
  throw new GatewayError(message, {
    status,
    type: status === 401
      ? "authentication_error"
      : status === 403
      ? "permission_error"
      : "invalid_request_error",
    code,
  });
}

function view(key: KeyRecord, state: FakeAdminState, now: number) {
  const { digest: _, ...stored } = key;
  const used = state.records.filter((r) => r.key_id === key.id);
  const spent = used.reduce((sum, r) => sum + (r.cost_usd ?? 0), 0);
  return {
    ...stored,
    role: key.role ?? "client",
    status: keyStatus(key, state.keys, now),
    last_used_at: used.length === 0 ? null : new Date(used.at(-1)?.time ?? 0).toISOString(),
    requests: used.length,
    budget_status: key.budget === undefined ? null : {
      usd: key.budget.usd,
      period: key.budget.period,
      source: "key",
      spent_usd: spent,
      remaining_usd: Math.max(0, key.budget.usd - spent),
      resets_at: null,
    },
  };
}

function newKey(fields: Partial<KeyRecord>, now: number): { record: KeyRecord; secret: string } {
  const secret = generateKey(crypto.getRandomValues(new Uint8Array(24)));
  const record: KeyRecord = {
    id: `key_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`,
    name: "key",
    digest: digestKey(secret),
    hint: keyHint(secret),
    created_at: new Date(now).toISOString(),
    expires_at: null,
    revoked_at: null,
    rotated_from: null,
    models: null,
    endpoints: null,
    ips: null,
    rpm: null,
    tpm: null,
    metadata: {},
    ...fields,
  };
  return { record, secret };
}

const DURATION_REGEXP = /^(\d+)([hd])$/;

function millis(duration: string): number {
  const match = DURATION_REGEXP.exec(duration);
  if (duration === "0") return 0;
  if (match === null) fail(400, "invalid_value", `Cannot parse duration "${duration}"`);
  return Number(match[1]) * (match[2] === "h" ? 3_600_000 : 86_400_000);
}

async function route(request: Request, url: URL, state: FakeAdminState, now: number) {
  const path = url.pathname.slice("/admin/api/".length);
  const find = (id: string) =>
    state.keys.find((k) => k.id === decodeURIComponent(id)) ??
      fail(404, "key_not_found", `No key ${id}`);
  const keyRoute = /^keys\/([^/]+)(?:\/(revoke|rotate))?$/.exec(path);
  const nameOf = (id: string) => state.keys.find((k) => k.id === id)?.name ?? id;
  const period = (url.searchParams.get("period") ?? "day") as Period;
  if (request.method === "GET" && path === "overview") {
    return overview(state.records, { period, now, nameOf });
  }
  if (request.method === "GET" && path === "providers") {
    return providers(state.records, { now, targets: state.targets });
  }
  if (request.method === "GET" && path === "usage") {
    const by = url.searchParams.get("by") === "model" ? "model" : "key";
    const only = url.searchParams.get(by === "key" ? "key_id" : "model");
    return usage(state.records, { period, now, by, only, nameOf });
  }
  if (request.method === "GET" && path === "keys") {
    return { data: state.keys.map((k) => view(k, state, now)), writable: true, source: "file" };
  }
  if (request.method === "POST" && path === "keys") {
    const body = await request.json();
    if (typeof body.name !== "string" || body.name === "") {
      fail(400, "invalid_value", "name must not be empty");
    }
    const { expires_in, ...fields } = body;
    const expires_at = expires_in === undefined
      ? null
      : new Date(now + millis(expires_in)).toISOString();
    const { record, secret } = newKey({ ...fields, expires_at }, now);
    state.keys.push(record);
    state.changed();
    return new Response(JSON.stringify({ key: view(record, state, now), secret }), { status: 201 });
  }
  if (keyRoute === null) fail(404, "not_found", `Unknown path ${request.method} ${url.pathname}`);
  const key = find(keyRoute[1] ?? "");
  const index = state.keys.indexOf(key);
  if (request.method === "POST" && keyRoute[2] === "revoke") {
    if (key.revoked_at === null) {
      state.keys[index] = { ...key, revoked_at: new Date(now).toISOString() };
    }
  } else if (request.method === "POST" && keyRoute[2] === "rotate") {
    const { grace = "24h" } = await request.json();
    const { id: _id, digest: _d, hint: _h, created_at: _c, ...kept } = key;
    const { record, secret } = newKey({ ...kept, rotated_from: key.id }, now);
    const previous = { ...key, expires_at: new Date(now + millis(grace)).toISOString() };
    state.keys[index] = previous;
    state.keys.push(record);
    state.changed();
    const answer = { key: view(record, state, now), previous: view(previous, state, now), secret };
    return new Response(JSON.stringify(answer), { status: 201 });
  } else if (request.method === "PATCH" && keyRoute[2] === undefined) {
    const changes = await request.json();
    const { budget, ...rest } = changes;
    const next: KeyRecord = { ...key, ...rest };
    if (budget === null) delete next.budget;
    else if (budget !== undefined) next.budget = budget;
    state.keys[index] = next;
  } else {
    fail(405, "method_not_allowed", `Method ${request.method} is not allowed here`);
  }
  state.changed();
  return { key: view(state.keys[index] ?? key, state, now) };
}

/** Answers one `/admin/api/…` request. */
export async function handleFakeAdminApi(
  request: Request,
  state: FakeAdminState,
): Promise<Response> {
  const url = new URL(request.url);
  const now = Date.now();
  let response: Response;
  try {
    const auth = parseAuthorization(request.headers.get("authorization"));
    if (!auth.ok) throw auth.error;
    const principal = state.verifier.verify(auth.token, { now, ip: undefined });
    if (principal instanceof GatewayError) throw principal;
    if (!principal.admin) {
      fail(403, "endpoint_not_allowed", `Only admin keys may call ${url.pathname}`);
    }
    const answer = await route(request, url, state, now);
    if (answer instanceof Response) response = answer;
    else if (url.searchParams.get("format") === "csv" && "rows" in answer) {
      response = new Response(usageCsv(answer.rows as Json[]), {
        headers: {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition":
            `attachment; filename="choreoai-usage-${answer.period}-${answer.by}.csv"`,
        },
      });
    } else response = Response.json(answer);
  } catch (error) {
    response = errorResponse(error);
  }
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ADMIN_SECURITY_HEADERS)) headers.set(name, value);
  headers.set("cache-control", "no-store");
  if (!headers.has("content-type")) headers.set("content-type", "application/json");
  return new Response(response.body, { status: response.status, headers });
}
