/**
 * CORS for the origins listed in CHOREOAI_CORS_ORIGINS, and for no one else.
 */

const EXPOSED = [
  "x-request-id",
  "x-choreoai-provider",
  "x-choreoai-adjusted",
  "retry-after",
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-tokens",
  "x-should-retry",
  "x-choreoai-budget-remaining-usd",
  "x-choreoai-cost-usd",
  "server-timing",
].join(", ");

/** The CORS policy of one gateway. */
export interface CorsPolicy {
  /** The `Access-Control-Allow-Origin` value for a request's `Origin`, or null. */
  allowOrigin(origin: string | null): string | null;
}

/** Builds the policy from the configured list (`*` allows any origin). */
export function createCorsPolicy(origins: readonly string[]): CorsPolicy {
  const any = origins.includes("*");
  const allowed = new Set(origins.map((o) => o.replace(/\/$/, "").toLowerCase()));
  return {
    allowOrigin(origin) {
      if (origin === null || origins.length === 0) return null;
      if (any) return "*";
      return allowed.has(origin.toLowerCase()) ? origin : null;
    },
  };
}

/** Whether a request is a CORS preflight. */
export function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.has("origin") &&
    request.headers.has("access-control-request-method");
}

/** The 204 answer to an allowed preflight. */
export function preflightResponse(request: Request, allowOrigin: string): Response {
  const requested = request.headers.get("access-control-request-headers");
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-origin": allowOrigin,
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-headers": requested ?? "authorization, content-type",
      "access-control-max-age": "600",
      "vary": "origin, access-control-request-headers",
    },
  });
}

/** Adds the CORS headers of an allowed origin to an actual response. */
export function addCorsHeaders(headers: Headers, allowOrigin: string): void {
  headers.set("access-control-allow-origin", allowOrigin);
  headers.set("access-control-expose-headers", EXPOSED);
  // Lets the page read Server-Timing through the Performance API too.
  headers.set("timing-allow-origin", allowOrigin);
  headers.append("vary", "origin");
}
