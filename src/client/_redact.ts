/** Removal of the API key from what goes into an error. */

/** Keys shorter than this are not searched for: replacing them would garble ordinary text. */
const MIN_REDACTED_LENGTH = 6;
const REDACTED = "***";

/** `text` with every occurrence of `secret` replaced by `***`. */
export function redactText(text: string, secret: string): string {
  return secret.length >= MIN_REDACTED_LENGTH ? text.replaceAll(secret, REDACTED) : text;
}

/** A copy of decoded JSON `value` whose strings (keys included) are redacted with `redact`. */
export function redactJson(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactJson(item, redact));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [redact(key), redactJson(item, redact)]),
    );
  }
  return value;
}
