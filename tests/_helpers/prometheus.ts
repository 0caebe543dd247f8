/**
 * Reads a Prometheus text exposition (version 0.0.4) into samples, for tests that check what
 * `GET /metrics` says. Strict enough to fail on a malformed line.
 */

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/y;

/** Every sample of an exposition; `# HELP`/`# TYPE` lines are checked for form and skipped. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      if (!/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) {
        throw new Error(`bad comment line: ${line}`);
      }
      continue;
    }
    const match = LINE.exec(line);
    if (match === null) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? "";
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const label = LABEL.exec(body);
      if (label === null) throw new Error(`bad labels: ${line}`);
      labels[label[1] as string] = (label[2] as string).replace(
        /\\(.)/g,
        (_, c) => c === "n" ? "\n" : c,
      );
    }
    const raw = match[3] as string;
    const value = /^[+-]?inf$/i.test(raw)
      ? (raw.startsWith("-") ? -Infinity : Infinity)
      : Number(raw);
    if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`bad value: ${line}`);
    samples.push({ name: match[1] as string, labels, value });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include every one of `labels`. */
export function sumOf(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  return samples
    .filter((s) =>
      s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value)
    )
    .reduce((total, s) => total + s.value, 0);
}

/** Whether any sample is named `name` with all of `labels`. */
export function hasSample(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): boolean {
  return samples.some((s) =>
    s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value)
  );
}
