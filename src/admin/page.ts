/**
 * Serves the admin web page: `GET /admin` (and `/admin/`) answers its HTML, `GET
 * /admin/assets/<file>` its scripts, styles and icon. Public (the page holds no data; it reads
 * `/admin/api/…` with the admin key the operator types in), with a strict Content-Security-Policy.
 * Files are validated by an ETag; the vendored chart library, whose name holds its version, is
 * cached for a year.
 */
import { errors } from "../errors.ts";
import { ADMIN_SECURITY_HEADERS } from "./headers.ts";
import { ADMIN_ASSETS, ADMIN_INDEX, type AdminAsset } from "./assets.ts";

/** The page's Content-Security-Policy: its own files only, no inline script or style. */
export const ADMIN_CSP: string = ADMIN_SECURITY_HEADERS["content-security-policy"] ?? "";

const ASSETS_PREFIX = "/admin/assets/";
const METHODS = ["GET", "HEAD"] as const;

/** A file's bytes and its strong ETag (the first 128 bits of its SHA-256), computed once. */
interface Encoded {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly etag: string;
}
const encoded = new Map<AdminAsset, Promise<Encoded>>();

function encode(asset: AdminAsset): Promise<Encoded> {
  let entry = encoded.get(asset);
  if (entry === undefined) {
    const bytes = new TextEncoder().encode(asset.body);
    entry = crypto.subtle.digest("SHA-256", bytes).then((hash) => {
      const hex = Array.from(new Uint8Array(hash, 0, 16), (b) => b.toString(16).padStart(2, "0"));
      return { bytes, etag: `"${hex.join("")}"` };
    });
    encoded.set(asset, entry);
  }
  return entry;
}

/** Whether `If-None-Match` (a list of ETags, weak or strong, or `*`) matches `etag`. */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (ifNoneMatch === null) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag;
  });
}

/**
 * The answer to a request for the page or one of its files (`path` is one that
 * `isAdminPagePath` accepts): 200 (or 304 when `If-None-Match` matches), 404 for an unknown
 * file, 405 for a method other than GET or HEAD.
 */
export async function serveAdminPage(request: Request, path: string): Promise<Response> {
  const asset = path.startsWith(ASSETS_PREFIX)
    ? ADMIN_ASSETS.get(path.slice(ASSETS_PREFIX.length))
    : ADMIN_INDEX;
  if (asset === undefined) throw errors.notFound(`No admin page file ${path}`);
  if (!(METHODS as readonly string[]).includes(request.method)) {
    throw errors.methodNotAllowed(request.method, METHODS);
  }
  const { bytes, etag } = await encode(asset);
  const headers = new Headers({
    ...ADMIN_SECURITY_HEADERS,
    etag,
    "cache-control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
  });
  if (matches(request.headers.get("if-none-match"), etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set("content-type", asset.type);
  headers.set("content-length", String(bytes.byteLength));
  return new Response(request.method === "HEAD" ? null : bytes, { headers });
}
