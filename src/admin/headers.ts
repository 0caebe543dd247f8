/**
 * The headers of every answer under `/admin` (the page, its assets, the JSON API and their
 * errors): a strict Content-Security-Policy (no inline script, nothing from elsewhere), no
 * framing, no sniffing, no referrer; and the API's answers are never cached.
 */

/** The security headers of the admin page and API (docs/notes: the admin API contract). */
export const ADMIN_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; " +
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; " +
    "form-action 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** The prefix of the admin JSON API. */
export const ADMIN_API_PREFIX = "/admin/api/";

/**
 * Sets the admin headers on an answer to `path` (under `/admin`), and `Cache-Control: no-store`
 * on the API's.
 */
export function setAdminHeaders(headers: Headers, path: string): void {
  for (const [name, value] of Object.entries(ADMIN_SECURITY_HEADERS)) headers.set(name, value);
  if (path.startsWith(ADMIN_API_PREFIX) || path === "/admin/api") {
    headers.set("cache-control", "no-store");
  }
}
