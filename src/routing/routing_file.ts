/**
 * The routing file (`CHOREOAI_CONFIG`): custom providers and public model names with their
 * targets, fallbacks, timeouts and retries (DESIGN.md). Parsing is pure and strict: an unknown
 * or misspelt field is an error, since a silently ignored `"fallback"` would only show the day
 * the primary fails. The file never holds secrets: keys are named by environment variable.
 */
import { z } from "zod";

/** Names of the providers that exist without being declared. */
export const BUILT_IN_PROVIDERS = ["openai", "anthropic", "azure", "gemini"] as const;

/** Header names a routing file may not set: credentials (secrets stay out of the file) and framing. */
const FORBIDDEN_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "api-key",
  "x-api-key",
  "x-goog-api-key",
  "host",
  "content-length",
  "content-type",
  "connection",
  "transfer-encoding",
]);

const PROVIDER_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const httpUrl = z
  .string()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    message: "must be an http(s) URL",
  })
  .transform((value) => value.replace(/\/+$/, ""));

const envName = z.string().regex(ENV_NAME, "must be the name of an environment variable");

const headers = z
  .record(
    z.string().regex(HEADER_NAME, "must be a valid header name").refine(
      (name) => !FORBIDDEN_HEADERS.has(name.toLowerCase()),
      "may not be set here (credentials come from api_key_env; framing is the gateway's)",
    ),
    z.string().regex(/^[^\r\n]*$/, "must be one line"),
  )
  .optional();

const common = {
  headers,
  /** OpenAI-format providers: ask for usage on streams. */
  stream_usage: z.boolean().optional(),
};

const ProviderSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("openai-compatible"),
    base_url: httpUrl,
    api_key_env: envName.optional(),
    ...common,
  }),
  z.strictObject({
    kind: z.literal("azure"),
    endpoint: httpUrl,
    api_key_env: envName,
    api_version: z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, "must look like 2024-10-21")
      .optional(),
    ...common,
  }),
  z.strictObject({
    kind: z.literal("anthropic"),
    base_url: httpUrl.optional(),
    api_key_env: envName,
    headers,
  }),
  z.strictObject({
    kind: z.literal("gemini"),
    base_url: httpUrl.optional(),
    api_key_env: envName,
    headers,
  }),
], { error: "kind must be openai-compatible, azure, anthropic or gemini" });

/** US dollars per million tokens: a number of 0 or more. */
const perMtok = z
  .number({
    error: (issue) =>
      issue.input === undefined
        ? "is required (US dollars per million tokens)"
        : "must be a number of US dollars per million tokens",
  })
  .min(0, "must not be negative");

/** Prices that win over the package's (input and output required; cache prices default to input). */
const PricesSchema = z.strictObject({
  input_per_mtok: perMtok,
  output_per_mtok: perMtok,
  cache_read_per_mtok: perMtok.optional(),
  cache_write_per_mtok: perMtok.optional(),
}, {
  error: (issue) =>
    issue.code === "invalid_type"
      ? 'must be an object such as {"input_per_mtok": 2.5, "output_per_mtok": 10}'
      : undefined,
});

const TargetSchema = z.strictObject({
  provider: z.string().min(1, "must name a provider"),
  model: z.string().min(1, "must name the provider's model or deployment"),
  weight: z.number().positive("must be greater than 0").finite().optional(),
  prices: PricesSchema.optional(),
});

const ModelSchema = z.strictObject({
  targets: z.array(TargetSchema).min(1, "needs at least one target"),
  prices: PricesSchema.optional(),
  fallbacks: z.array(z.string().min(1)).optional(),
  timeout_ms: z.int().min(1).optional(),
  deadline_ms: z.int().min(1).optional(),
  retries: z.int().min(0).max(10).optional(),
});

const RoutingFileSchema = z.strictObject({
  $schema: z.string().optional(),
  providers: z.record(
    z.string().regex(PROVIDER_NAME, "provider names are lower-case letters, digits, . _ -"),
    ProviderSchema,
  ).optional(),
  models: z.record(
    z.string().regex(/^\S{1,256}$/, "model names have no spaces"),
    ModelSchema,
  ).optional(),
  circuit_breaker: z.strictObject({
    failures: z.int().min(1).optional(),
    cooldown_ms: z.int().min(1).optional(),
  }).optional(),
});

/** A declared provider, as written in the file. */
export type ProviderDeclaration = z.infer<typeof ProviderSchema>;
/** Prices per million tokens, as written in the file. */
export type PricesDeclaration = z.infer<typeof PricesSchema>;
/** A public model, as written in the file. */
export type ModelDeclaration = z.infer<typeof ModelSchema>;
/** The routing file, parsed. */
export type RoutingFile = z.infer<typeof RoutingFileSchema>;

/** The routing file is invalid; `problems` has one line per mistake, each naming its place. */
export class RoutingFileError extends Error {
  readonly problems: readonly string[];
  /**
   * Set when the text is JSON whose shape is refused: the names the file declares and uses, read
   * as far as they go, so that the checks of those names (which need the whole configuration)
   * still run and every mistake is reported at once (see {@linkcode withNameProblems}).
   */
  readonly names: RoutingFile | undefined;
  /** Places of the values the shape check refused (not of unknown or refused keys). */
  readonly #refused: readonly string[];

  constructor(
    problems: readonly string[],
    reading?: { readonly names: RoutingFile; readonly refused: readonly string[] },
  ) {
    super(`Invalid routing file:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "RoutingFileError";
    this.problems = problems;
    this.names = reading?.names;
    this.#refused = reading?.refused ?? [];
  }

  /**
   * This error with the problems found in {@linkcode names} added, except those at (or inside)
   * a place whose value was already refused: a refused value is reported once.
   */
  withNameProblems(problems: readonly string[]): RoutingFileError {
    const reported = (problem: string) => {
      const at = problem.slice(0, problem.indexOf(": "));
      return this.#refused.some((place) =>
        place === "(file)" || at === place || at.startsWith(`${place}.`) ||
        at.startsWith(`${place}[`)
      );
    };
    return new RoutingFileError([...this.problems, ...problems.filter((p) => !reported(p))]);
  }
}

function place(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "(file)" : out;
}

/**
 * Parses the routing file's text (shape only; names are checked by `compileRouting`, and
 * `compileRoutingFile` does both).
 *
 * @throws {RoutingFileError} naming every mistake of shape, with the names it could read.
 */
export function parseRoutingFile(text: string): RoutingFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RoutingFileError([`not valid JSON: ${(error as Error).message}`]);
  }
  const problems = builtInNameProblems(json);
  const result = RoutingFileSchema.safeParse(json);
  const issues = result.success ? [] : result.error.issues;
  problems.push(...issues.flatMap(describeIssue));
  if (problems.length === 0 && result.success) return result.data;
  // The shape check does not stop the name checks: an unknown key (or any other refused value)
  // must not hide a target naming no provider elsewhere in the file.
  const refused = issues
    .filter((issue) => issue.code !== "unrecognized_keys" && issue.code !== "invalid_key")
    .map((issue) => place(issue.path));
  throw new RoutingFileError(problems, { names: namesOf(json), refused });
}

/** One line per zod issue; a refused record key says why (zod nests the key's own issues). */
function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === "invalid_key" && issue.issues.length > 0) {
    const key = issue.path.at(-1);
    return issue.issues.map((inner) =>
      `${place(issue.path)}: "${String(key)}" ${inner.message.replace(/^Invalid.*$/, "is invalid")}`
    );
  }
  return [`${place(issue.path)}: ${issue.message}`];
}

/** Declared providers may not take a built-in name (checked on the raw JSON, with the rest). */
function builtInNameProblems(json: unknown): string[] {
  const providers = (json as { providers?: unknown } | null)?.providers;
  if (typeof providers !== "object" || providers === null) return [];
  return Object.keys(providers)
    .filter((name) =>
      (BUILT_IN_PROVIDERS as readonly string[]).includes(name) || name === "choreoai"
    )
    .map((name) => `providers.${name}: "${name}" is a built-in provider name; choose another`);
}

function recordOf(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : {};
}

function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value : "";
}

const STAND_IN_PROVIDER: ProviderDeclaration = {
  kind: "openai-compatible",
  base_url: "http://127.0.0.1",
};

/**
 * Every name the file declares (providers, models) and uses (each target's provider, each
 * fallback, at its own index), read from JSON whose shape was refused. Nothing else is read:
 * declared providers stand in as keyless local servers, since only their names are checked.
 * A value that is not a name reads as "", whose problem is dropped as already reported.
 */
function namesOf(json: unknown): RoutingFile {
  const file = recordOf(json);
  const providers = Object.fromEntries(
    Object.keys(recordOf(file.providers)).map((name) => [name, STAND_IN_PROVIDER]),
  );
  const models = Object.fromEntries(
    Object.entries(recordOf(file.models)).map(([name, value]) => {
      const model = recordOf(value);
      const targets = listOf(model.targets).map((target) => ({
        provider: textOf(recordOf(target).provider),
        model: textOf(recordOf(target).model),
      }));
      return [name, { targets, fallbacks: listOf(model.fallbacks).map(textOf) }];
    }),
  );
  return { providers, models };
}
