/** Request ids: a client's `x-request-id` is kept when it is safe to log, else one is made. */

const SAFE_ID_REGEXP = /^[A-Za-z0-9._:\-]{1,128}$/;

/** The request's id: the client's `x-request-id` when well-formed, else `fresh()`. */
export function pickRequestId(header: string | null, fresh: () => string): string {
  return header !== null && SAFE_ID_REGEXP.test(header) ? header : fresh();
}
