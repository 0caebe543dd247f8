/**
 * The admin API client: every call sends the admin key (held in this tab's sessionStorage only)
 * as a Bearer token. A 401 or 403 forgets the key and tells the listener set by
 * `onUnauthorized`, which shows the sign-in form again.
 */

const STORAGE_KEY = "choreoai.admin.key";
const BASE = "/admin/api/";

/** The API refused the key (401 or 403). */
export class AuthError extends Error {
  constructor(message, status) {
    super(message);
    this.name = "AuthError";
    this.status = status;
  }
}

/** The API answered another error; `message` is its own, `code` its error code. */
export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

let unauthorized = () => {};

/** Sets what happens when the API refuses the key. */
export function onUnauthorized(listener) {
  unauthorized = listener;
}

/** The admin key of this tab, or null. */
export function storedKey() {
  return sessionStorage.getItem(STORAGE_KEY);
}

/** Keeps the admin key for this tab. */
export function storeKey(key) {
  sessionStorage.setItem(STORAGE_KEY, key);
}

/** Forgets the admin key. */
export function forgetKey() {
  sessionStorage.removeItem(STORAGE_KEY);
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    return { message: body?.error?.message ?? response.statusText, code: body?.error?.code };
  } catch {
    return { message: `${response.status} ${response.statusText}`, code: undefined };
  }
}

async function call(method, path, body) {
  const key = storedKey();
  if (key === null) {
    const error = new AuthError("Sign in with an admin key.", 401);
    unauthorized(error);
    throw error;
  }
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(BASE + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
  });
  if (response.status === 401 || response.status === 403) {
    const { message } = await errorMessage(response);
    const error = new AuthError(
      response.status === 401
        ? `The admin key was refused (401): ${message}`
        : `This key may not use the admin API (403): ${message}. Sign in with an admin key.`,
      response.status,
    );
    forgetKey();
    unauthorized(error);
    throw error;
  }
  if (!response.ok) {
    const { message, code } = await errorMessage(response);
    throw new ApiError(message, response.status, code);
  }
  return response;
}

/** GET `/admin/api/<path>` as JSON. */
export async function getJson(path) {
  return await (await call("GET", path)).json();
}

/** Sends a JSON body (POST, PATCH) and reads the JSON answer. */
export async function sendJson(method, path, body = {}) {
  return await (await call(method, path, body)).json();
}

/**
 * Downloads `/admin/api/<path>` (which needs the Bearer token, so a plain link cannot) through a
 * blob, under the file name the answer gives, else `fallbackName`.
 */
export async function download(path, fallbackName) {
  const response = await call("GET", path);
  const disposition = response.headers.get("content-disposition") ?? "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
