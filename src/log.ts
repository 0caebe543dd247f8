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

/** Where finished lines go; main.ts passes {@linkcode createStdioSink}'s, tests collect them. */
export type LogSink = (line: string, level: "info" | "warn" | "error") => void;

const encoder = new TextEncoder();

function writeAll(file: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.byteLength) offset += file.writeSync(bytes.subarray(offset));
}

/** A stdout/stderr sink that can be flushed before the process exits. */
export interface StdioSink {
  readonly sink: LogSink;
  /** Writes every buffered line now. */
  flush(): void;
}

/**
 * Info lines (one per request) are buffered and written to stdout together, at most
 * `intervalMs` later or once 64 KiB are waiting: one write per batch instead of one per request.
 * Warnings and errors go to stderr at once, after the lines buffered before them.
 */
export function createStdioSink(intervalMs = 10): StdioSink {
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending === "") return;
    const text = pending;
    pending = "";
    writeAll(Deno.stdout, encoder.encode(text));
  };
  const sink: LogSink = (line, level) => {
    if (level !== "info") {
      flush();
      writeAll(Deno.stderr, encoder.encode(`${line}\n`));
      return;
    }
    pending += `${line}\n`;
    if (pending.length >= 65_536) flush();
    else if (timer === undefined) {
      timer = setTimeout(flush, intervalMs);
      Deno.unrefTimer(timer);
    }
  };
  return { sink, flush };
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
  try {
    while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
  } catch (error) {
    // The reader went away (`choreoai keys list | head -1`): nothing left to tell it.
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
}
