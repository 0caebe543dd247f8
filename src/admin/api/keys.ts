/**
 * `/admin/api/keys…`: list the keys with their status, use and budget; create, revoke, rotate and
 * change them, by the same operations and rules as `choreoai keys` (src/keys/operations.ts).
 * After a change this replica reloads its key list, so the change is in force when the answer is
 * sent; secrets appear only in the answer that created them.
 */
import { GatewayError } from "../../errors.ts";
import type { KeyFile, KeyRecord } from "../../keys/key_file.ts";
import {
  createKey,
  findKey,
  type KeyOperationContext,
  KeyOperationError,
  revokeKey,
  rotateKey,
  updateKey,
} from "../../keys/operations.ts";
import { checkDuration } from "../../keys/settings.ts";
import { KeyRecordSchema } from "../../keys/key_file.ts";
import { budgetStatus, type KeyView, readKeyUsage, toView } from "../../keys/view.ts";
import type { AdminApiDeps } from "./deps.ts";
import {
  checked,
  FIELD_LABELS,
  parseCreateKey,
  parsePatchKey,
  parseRotateKey,
} from "./key_bodies.ts";
import type { AdminCall } from "./router.ts";

function keyListNotConfigured(): GatewayError {
  return new GatewayError(
    "No key list to change: the gateway runs in development mode (set CHOREOAI_KEYS_FILE or " +
      "CHOREOAI_DATABASE_URL)",
    { status: 409, type: "invalid_request_error", code: "key_list_not_configured" },
  );
}

function keyNotFound(id: string): GatewayError {
  return new GatewayError(`No key with id "${id}"`, {
    status: 404,
    type: "invalid_request_error",
    code: "key_not_found",
  });
}

/** A refused operation as the API answers it: 404 for an unknown key, else 409. */
function refusal(error: KeyOperationError): GatewayError {
  return new GatewayError(error.message, {
    status: error.kind === "not_found" ? 404 : 409,
    type: "invalid_request_error",
    code: error.kind === "not_found" ? "key_not_found" : "key_conflict",
  });
}

/** The views of `keys` (of `file`), with what the usage store tells of them. */
async function viewsOf(
  api: AdminApiDeps,
  file: KeyFile,
  keys: readonly KeyRecord[],
): Promise<{ views: KeyView[]; warnings: string[] }> {
  const now = api.now();
  const { defaultBudget } = api;
  const usage = api.usage === undefined
    ? {
      stats: new Map(),
      budgetOf: (key: KeyRecord) => budgetStatus(key, undefined, { defaultBudget, now }),
      problems: {},
    }
    : await readKeyUsage(keys, { file, reader: api.usage, defaultBudget, now });
  const warnings = Object.values(usage.problems).filter((p) => p !== undefined);
  return { views: keys.map((key) => toView(key, file, { ...usage, now })), warnings };
}

/**
 * Runs a key operation on the list under its lock, then reloads this replica's key list.
 *
 * @returns what the operation returned, and the list as written.
 */
async function change<T extends { file: KeyFile }>(
  call: AdminCall,
  operation: (file: KeyFile, ctx: KeyOperationContext) => T,
  options: { create?: boolean } = {},
): Promise<T> {
  const { api } = call;
  const list = api.keyList;
  if (list === undefined) throw keyListNotConfigured();
  const ctx = { now: api.now(), randomBytes: api.randomBytes, where: list.where };
  let result: T | undefined;
  try {
    await list.update((file) => {
      result = operation(file, ctx);
      return result.file;
    }, options);
  } catch (error) {
    throw error instanceof KeyOperationError ? refusal(error) : error;
  }
  if (result === undefined) throw new Error("The key list was not updated");
  const outcome = await api.reloadKeys();
  if (outcome === "failed") {
    api.log.error("admin API: key list changed, but this replica could not reload it", {
      where: list.where,
    });
  }
  return result;
}

/** The key id of a path, or 404 when it cannot be one. */
function keyId(call: AdminCall): string {
  const id = call.id ?? "";
  if (!KeyRecordSchema.shape.id.safeParse(id).success) throw keyNotFound(id);
  return id;
}

function logChange(call: AdminCall, action: string, fields: Record<string, unknown>): void {
  call.api.log.info(`admin API: key ${action}`, { by: call.actor, ...fields });
}

/** `GET /admin/api/keys`. */
export async function listKeys(call: AdminCall): Promise<Response> {
  const list = call.api.keyList;
  if (list === undefined) {
    return Response.json({ data: [], writable: false, source: "none", warnings: [] });
  }
  const file = await list.read();
  const { views, warnings } = await viewsOf(call.api, file, file.keys);
  return Response.json({ data: views, writable: true, source: list.source, warnings });
}

/** `POST /admin/api/keys`: 201 with the new key's view and its secret (shown once). */
export async function createKeyRoute(call: AdminCall): Promise<Response> {
  if (call.api.keyList === undefined) throw keyListNotConfigured();
  const settings = parseCreateKey(await call.body(), call.api.now());
  const created = await change(call, (file, ctx) => createKey(file, settings, ctx), {
    create: true,
  });
  logChange(call, "created", { key_id: created.record.id, role: settings.role });
  const [view] = (await viewsOf(call.api, created.file, [created.record])).views;
  return Response.json({ key: view, secret: created.secret }, { status: 201 });
}

/** `POST /admin/api/keys/{id}/revoke`: the key as revoked (already revoked: unchanged). */
export async function revokeKeyRoute(call: AdminCall): Promise<Response> {
  const id = keyId(call);
  const revoked = await change(call, (file, ctx) => revokeKey(file, id, ctx));
  if (revoked.changed) logChange(call, "revoked", { key_id: id });
  const [view] = (await viewsOf(call.api, revoked.file, [revoked.record])).views;
  return Response.json({ key: view });
}

/** `POST /admin/api/keys/{id}/rotate`: 201 with the new key, the old one, and the secret. */
export async function rotateKeyRoute(call: AdminCall): Promise<Response> {
  const id = keyId(call);
  // A body is optional: none (or an empty one) takes the default grace.
  const { request } = call;
  const empty = request.body === null || request.headers.get("content-length") === "0";
  const grace = parseRotateKey(empty ? {} : await call.body());
  const graceMs = checked(() => checkDuration(grace, FIELD_LABELS.grace, true));
  const rotated = await change(
    call,
    (file, ctx) => checked(() => rotateKey(file, id, { graceMs, labels: FIELD_LABELS }, ctx)),
  );
  logChange(call, "rotated", { key_id: id, new_key_id: rotated.record.id, grace });
  const { views } = await viewsOf(call.api, rotated.file, [rotated.record, rotated.previous]);
  return Response.json(
    { key: views[0], previous: views[1], secret: rotated.secret },
    { status: 201 },
  );
}

/** `PATCH /admin/api/keys/{id}`: name, expiry, scopes, limits, budget; null clears. */
export async function patchKeyRoute(call: AdminCall): Promise<Response> {
  const id = keyId(call);
  if (call.api.keyList === undefined) throw keyListNotConfigured();
  const { patch, budget } = parsePatchKey(await call.body(), call.api.now());
  const changed = await change(call, (file, ctx) => {
    const key = findKey(file, id, ctx.where);
    const resolved = budget === undefined || budget === null ? budget : {
      usd: budget.usd,
      period: budget.period ?? key.budget?.period ?? "month",
    };
    return checked(() =>
      updateKey(file, id, { ...patch, budget: resolved }, { ...ctx, labels: FIELD_LABELS })
    );
  });
  const fields = [...Object.keys(patch), ...(budget === undefined ? [] : ["budget"])];
  if (fields.length > 0) logChange(call, "changed", { key_id: id, fields });
  const [view] = (await viewsOf(call.api, changed.file, [changed.record])).views;
  return Response.json({ key: view });
}
