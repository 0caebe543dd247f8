/**
 * Recognising and redacting PostgreSQL URLs, apart from the client so that configuration
 * parsing does not load it.
 */

/** Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`, with a host). */
export function isDatabaseUrl(url: string): boolean {
  if (!/^postgres(ql)?:\/\//i.test(url) || !URL.canParse(url)) return false;
  return new URL(url).hostname !== "";
}

/** `url` with its password replaced by `***`, for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://…";
  }
}
