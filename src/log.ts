// deno-lint-ignore-file no-console -- the one module allowed to write to the console
/**
 * JSON-lines logging. The only module that touches the console.
 */

/** Fields of one log line; values must be JSON-serialisable. */
export type LogFields = Record<string, unknown>;

/** Levelled, structured logger: one JSON object per line. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Where finished lines go; main.ts passes {@linkcode consoleSink}, tests collect them. */
export type LogSink = (line: string, level: "info" | "warn" | "error") => void;

/** Writes info lines to stdout and warnings and errors to stderr. */
export function consoleSink(line: string, level: "info" | "warn" | "error"): void {
  if (level === "info") console.log(line);
  else console.error(line);
}

/** Creates a logger that stamps each line with the injected clock. */
export function createLogger(sink: LogSink, now: () => number): Logger {
  function write(level: "info" | "warn" | "error", message: string, fields?: LogFields): void {
    sink(
      JSON.stringify({ time: new Date(now()).toISOString(), level, msg: message, ...fields }),
      level,
    );
  }
  return {
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
  };
}

/** Describes an unknown thrown value for a log line (never for a client). */
export function describeError(error: unknown): LogFields {
  if (error instanceof Error) {
    const cause = error.cause === undefined ? undefined : describeError(error.cause);
    return { error: `${error.name}: ${error.message}`, stack: error.stack, cause };
  }
  return { error: String(error) };
}

/** Prints plain text for a person (help, version, usage and start-up errors). */
export function printText(text: string, to: "stdout" | "stderr" = "stdout"): void {
  if (to === "stdout") console.log(text);
  else console.error(text);
}

/** Writes text exactly as given, with no newline added (CLI output meant for pipes). */
export function writeText(text: string, to: "stdout" | "stderr" = "stdout"): void {
  const bytes = new TextEncoder().encode(text);
  const stream = to === "stdout" ? Deno.stdout : Deno.stderr;
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}
