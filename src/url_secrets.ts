/**
 * Masking the secrets a URL may carry (`user:password@`, a query such as `?key=…`, a fragment)
 * before it is shown in a message. It works on the text, so it also masks a URL too malformed for `new URL` to read.
 */

/** A scheme followed by at least one slash: `redis://`, `https:/` (a typo). */
const SCHEME_REGEXP = /^[A-Za-z][A-Za-z0-9+.-]*:\/+/;

/**
 * Masks the user-info, the query and the fragment of a URL. Anything that may be a password is masked, even
 * at the cost of some of the host.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskUrlSecrets } from "./url_secrets.ts";
 *
 * assert.equal(maskUrlSecrets("redis://default:pw@redis:6379/0"), "redis://***@redis:6379/0");
 * assert.equal(maskUrlSecrets("redis://:p@ss/w@rd"), "redis://***@rd");
 * assert.equal(maskUrlSecrets("https://h/v1?key=abc"), "https://h/v1?***");
 * ```
 */
export function maskUrlSecrets(url: string): string {
  const scheme = url.match(SCHEME_REGEXP)?.[0] ?? "";
  const rest = url.slice(scheme.length);
  // Everything up to the last "@" is taken for user-info, since a password may hold "@" or "/".
  const at = rest.lastIndexOf("@");
  // A query or fragment may carry a key (`?key=…`): it is masked whole.
  const cut = rest.search(/[?#]/);
  // "?" or "#" before the last "@": in a password, or an "@" in the query? Show no more.
  if (at >= 0 && cut >= 0 && cut < at) return `${scheme}***`;
  if (at >= 0) return `${scheme}***@${maskQuery(rest.slice(at + 1))}`;
  const head = cut < 0 ? rest : rest.slice(0, cut);
  // No "@": "host:port" or "[v6]:port" is fine, but "user:password" without a host (or any
  // other colon that is not a port's) may be a secret, so then nothing after the scheme is shown.
  const authority = (head.split("/", 1)[0] ?? "").replace(/^\[[^\]]*\]/, "");
  const colon = authority.indexOf(":");
  if (colon >= 0 && (!URL.canParse(url) || !/^\d*$/.test(authority.slice(colon + 1)))) {
    return `${scheme}***`;
  }
  return scheme + maskQuery(rest);
}

/** `/v1?key=abc#x` → `/v1?***`: what follows the first "?" or "#" is masked whole. */
function maskQuery(text: string): string {
  const cut = text.search(/[?#]/);
  return cut < 0 ? text : `${text.slice(0, cut + 1)}***`;
}

/**
 * {@linkcode maskUrlSecrets} for a comma-separated list of URLs. A password may hold a comma, so
 * a list in which anything looks secret is masked as one URL; a list with nothing to mask is
 * shown whole.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskUrlListSecrets } from "./url_secrets.ts";
 *
 * assert.equal(maskUrlListSecrets("https://a.example,htps://b"), "https://a.example,htps://b");
 * assert.equal(maskUrlListSecrets("https://u:p,w@a.example,https://b"), "https://***@a.example,https://b");
 * ```
 */
export function maskUrlListSecrets(list: string): string {
  const clean = !list.includes("@") &&
    list.split(",").every((url) => maskUrlSecrets(url) === url);
  return clean ? list : maskUrlSecrets(list);
}
