/**
 * Configuration: every environment variable of DESIGN.md, parsed once into a typed object.
 *
 * `parseConfig` is pure. It takes the variables as a plain record (main.ts reads them) and
 * either returns a {@linkcode Config} or throws one {@linkcode ConfigError} naming every bad
 * setting, so an operator fixes them all in one go.
 */
import { z } from "zod";
import ipaddr from "ipaddr.js";
import { parseDuration } from "./duration.ts";
import { isIpOrCidr } from "./keys/scopes.ts";
import { type Budget, BudgetSchema } from "./spend/budget.ts";
import { BUDGET_PERIODS } from "./spend/period.ts";
import { maskUrlListSecrets, maskUrlSecrets } from "./url_secrets.ts";
import { isDatabaseUrl } from "./db/url.ts";

/** One documented environment variable (for `--help` and `.env.example`). */
export interface VariableDoc {
  readonly name: string;
  readonly description: string;
  readonly default?: string;
  /** Never echo this variable's value in an error. */
  readonly secret?: boolean;
  /** A URL, or a comma-separated list of them: echoed without user-info, query or fragment. */
  readonly url?: "one" | "list";
}

/** Every variable the gateway reads, in the order they are documented. */
export const VARIABLES: readonly VariableDoc[] = [
  { name: "CHOREOAI_HOST", description: "listen address", default: "127.0.0.1" },
  { name: "CHOREOAI_PORT", description: "listen port (0 picks a free one)", default: "8000" },
  {
    name: "CHOREOAI_KEYS_FILE",
    description: "key list; unset means development mode (any key accepted)",
  },
  {
    name: "CHOREOAI_ENV",
    description:
      "development | production (production refuses to start without a key list: a key file or the database)",
    default: "development",
  },
  { name: "CHOREOAI_CONFIG", description: "optional JSON routing file" },
  {
    name: "CHOREOAI_DB",
    description: "SQLite file for usage records and stored Responses",
    default: "./choreoai.db",
  },
  {
    name: "CHOREOAI_DATABASE_URL",
    description:
      "PostgreSQL URL: usage, spend, stored Responses and (without CHOREOAI_KEYS_FILE) the key list, shared by replicas",
    url: "one",
  },
  {
    name: "CHOREOAI_RESPONSES_TTL",
    description: "how long stored Responses are kept (30d, 12h, 90m, 3600s)",
    default: "30d",
  },
  {
    name: "CHOREOAI_REDIS_URL",
    description: "Redis URL for rate limits and budgets shared by replicas",
    url: "one",
  },
  {
    name: "CHOREOAI_UPSTREAM_TIMEOUT_MS",
    description: "idle timeout for upstream headers and between stream events",
    default: "600000",
  },
  {
    name: "CHOREOAI_MAX_BODY_BYTES",
    description: "largest request body accepted",
    default: "20971520",
  },
  {
    name: "CHOREOAI_MAX_RESPONSE_BYTES",
    description: "largest non-streamed upstream answer read (past it: 502 upstream_error)",
    default: "67108864",
  },
  {
    name: "CHOREOAI_BODY_TIMEOUT_MS",
    description: "longest time to receive a request body",
    default: "30000",
  },
  {
    name: "CHOREOAI_DRAIN_MS",
    description: "on SIGTERM/SIGINT, how long in-flight requests may finish",
    default: "25000",
  },
  {
    name: "CHOREOAI_CORS_ORIGINS",
    description: "comma-separated browser origins allowed (* for any)",
    url: "list",
  },
  {
    name: "CHOREOAI_TRUSTED_PROXIES",
    description: "comma-separated CIDRs whose X-Forwarded-For is believed",
  },
  { name: "CHOREOAI_DEFAULT_RPM", description: "requests per minute for keys that set none" },
  { name: "CHOREOAI_DEFAULT_TPM", description: "tokens per minute for keys that set none" },
  {
    name: "CHOREOAI_DEFAULT_BUDGET_USD",
    description: "budget in US dollars for keys that set none (development mode too)",
  },
  {
    name: "CHOREOAI_DEFAULT_BUDGET_PERIOD",
    description: "period of the default budget: day, month (UTC) or total",
    default: "month",
  },
  {
    name: "CHOREOAI_FETCH_IMAGE_URLS",
    description: "true: fetch http(s) image URLs (public hosts only) for providers that need bytes",
    default: "false",
  },
  {
    name: "CHOREOAI_UPSTREAM_CLIENT",
    description: "http1: the gateway's own HTTP/1.1 client for providers; fetch: Deno's fetch",
    default: "http1",
  },
  {
    name: "CHOREOAI_METRICS",
    description: "true: Prometheus metrics at GET /metrics (admin keys); false: none kept",
    default: "true",
  },
  {
    name: "CHOREOAI_PRICES_UPDATE",
    description: "true: fetch fresher model prices (@pydantic/genai-prices data, from GitHub) " +
      "at start and daily; false: the prices the package ships, offline",
    default: "false",
  },
  {
    name: "OTEL_DENO",
    description: "true: OpenTelemetry traces of model requests, exported by Deno over OTLP " +
      "(OTEL_EXPORTER_OTLP_*; bin/choreoai sets it when OTEL_EXPORTER_OTLP_ENDPOINT is set)",
    default: "false",
  },
  { name: "OPENAI_API_KEY", description: "OpenAI API key", secret: true },
  {
    name: "OPENAI_BASE_URL",
    description: "OpenAI or any OpenAI-compatible base URL",
    default: "https://api.openai.com/v1",
    url: "one",
  },
  { name: "ANTHROPIC_API_KEY", description: "Anthropic API key", secret: true },
  {
    name: "ANTHROPIC_BASE_URL",
    description: "Anthropic base URL",
    default: "https://api.anthropic.com",
    url: "one",
  },
  { name: "AZURE_OPENAI_API_KEY", description: "Azure OpenAI API key", secret: true },
  {
    name: "AZURE_OPENAI_ENDPOINT",
    description: "Azure OpenAI resource endpoint, e.g. https://NAME.openai.azure.com",
    url: "one",
  },
  {
    name: "AZURE_OPENAI_API_VERSION",
    description: "Azure OpenAI api-version",
    default: "2024-10-21",
  },
  { name: "GEMINI_API_KEY", description: "Google Gemini API key", secret: true },
  {
    name: "GEMINI_BASE_URL",
    description: "Gemini base URL",
    default: "https://generativelanguage.googleapis.com",
    url: "one",
  },
];

/** The names of every variable, for main.ts to read and nothing else. */
export const VARIABLE_NAMES: readonly string[] = VARIABLES.map((v) => v.name);

/** An empty value counts as unset, as it does in most `.env` files. */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === "" ? undefined : v), schema.optional());
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

function httpUrl() {
  return z
    .string()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
      message: "must be an http:// or https:// URL",
    })
    .transform((v) => v.replace(/\/+$/, ""));
}

function commaList(item: z.ZodType<string, string>) {
  return z
    .string()
    .transform((v) => v.split(",").map((s) => s.trim()).filter((s) => s !== ""))
    .pipe(z.array(item));
}

/** A URL node-redis can use: a host, a numeric database if any, percent-encoding that decodes. */
function isRedisUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (!/^rediss?:$/.test(url.protocol) || url.hostname === "") return false;
  if (!/^(\/\d*)?$/.test(url.pathname)) return false;
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    return true;
  } catch {
    return false;
  }
}

/** A positive duration such as `30d`, in milliseconds. */
function duration() {
  return z.string().transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms === 0) {
      ctx.addIssue({
        code: "custom",
        message: "must be a whole number above 0 followed by s, m, h or d, such as 30d",
      });
      return z.NEVER;
    }
    return ms;
  });
}

const origin = z.string().refine(
  (v) => v === "*" || (URL.canParse(v) && new URL(v).origin === v.replace(/\/$/, "")),
  { message: "each origin must be * or scheme://host[:port]" },
);

const cidr = z.string().refine(isIpOrCidr, {
  message: "each entry must be an IP address or CIDR such as 10.0.0.0/8",
});

/** A number of US dollars such as `100` or `2.50`, within a budget's bounds. */
const budgetUsd = z
  .string()
  .regex(/^\d+(\.\d+)?$/, "must be a number of US dollars such as 100 or 2.50")
  .transform(Number)
  .pipe(BudgetSchema.shape.usd);

const budgetPeriod = z.enum(BUDGET_PERIODS, { error: "must be day, month or total" });

/** The two variables of the default budget, checked together. */
const BUDGET_VARIABLES = {
  CHOREOAI_DEFAULT_BUDGET_USD: optional(budgetUsd),
  CHOREOAI_DEFAULT_BUDGET_PERIOD: optional(budgetPeriod),
};

function checkBudgetVariables(
  env: {
    CHOREOAI_DEFAULT_BUDGET_USD?: number | undefined;
    CHOREOAI_DEFAULT_BUDGET_PERIOD?: string | undefined;
  },
  ctx: z.RefinementCtx<unknown>,
): void {
  if (
    env.CHOREOAI_DEFAULT_BUDGET_PERIOD !== undefined &&
    env.CHOREOAI_DEFAULT_BUDGET_USD === undefined
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["CHOREOAI_DEFAULT_BUDGET_PERIOD"],
      message: "has no effect without CHOREOAI_DEFAULT_BUDGET_USD: set both, or neither",
    });
  }
}

function defaultBudget(
  usd: number | undefined,
  period: Budget["period"] | undefined,
): Budget | undefined {
  return usd === undefined ? undefined : { usd, period: period ?? "month" };
}

const EnvSchema = z
  .object({
    CHOREOAI_HOST: optional(z.string().regex(/^\S+$/, "must be a host name or IP address")),
    CHOREOAI_PORT: optional(integer(0, 65535)),
    CHOREOAI_KEYS_FILE: optional(z.string()),
    CHOREOAI_ENV: optional(
      z.enum(["development", "production"], {
        error: "must be development or production",
      }),
    ),
    CHOREOAI_CONFIG: optional(z.string()),
    CHOREOAI_DB: optional(z.string()),
    CHOREOAI_DATABASE_URL: optional(
      z.string().refine(isDatabaseUrl, {
        message: "must be a URL postgres://[user[:password]@]host[:port]/database[?options]",
      }),
    ),
    CHOREOAI_RESPONSES_TTL: optional(duration()),
    CHOREOAI_REDIS_URL: optional(
      z.string().refine(isRedisUrl, {
        message: "must be a URL redis://[user:password@]host[:port][/database] (or rediss://)",
      }),
    ),
    CHOREOAI_UPSTREAM_TIMEOUT_MS: optional(integer(1)),
    CHOREOAI_MAX_BODY_BYTES: optional(integer(1)),
    CHOREOAI_MAX_RESPONSE_BYTES: optional(integer(1)),
    CHOREOAI_BODY_TIMEOUT_MS: optional(integer(1)),
    CHOREOAI_DRAIN_MS: optional(integer(0)),
    CHOREOAI_CORS_ORIGINS: optional(commaList(origin)),
    CHOREOAI_TRUSTED_PROXIES: optional(commaList(cidr)),
    CHOREOAI_DEFAULT_RPM: optional(integer(1)),
    CHOREOAI_DEFAULT_TPM: optional(integer(1)),
    ...BUDGET_VARIABLES,
    CHOREOAI_FETCH_IMAGE_URLS: optional(
      z.enum(["true", "false"], { error: "must be true or false" }),
    ),
    CHOREOAI_UPSTREAM_CLIENT: optional(
      z.enum(["http1", "fetch"], { error: "must be http1 or fetch" }),
    ),
    CHOREOAI_METRICS: optional(z.enum(["true", "false"], { error: "must be true or false" })),
    CHOREOAI_PRICES_UPDATE: optional(
      z.enum(["true", "false"], { error: "must be true or false" }),
    ),
    // Deno reads it too, and takes either word in any case.
    OTEL_DENO: optional(z.string().regex(/^(true|false)$/i, "must be true or false")),
    OPENAI_API_KEY: optional(z.string()),
    OPENAI_BASE_URL: optional(httpUrl()),
    ANTHROPIC_API_KEY: optional(z.string()),
    ANTHROPIC_BASE_URL: optional(httpUrl()),
    AZURE_OPENAI_API_KEY: optional(z.string()),
    AZURE_OPENAI_ENDPOINT: optional(httpUrl()),
    AZURE_OPENAI_API_VERSION: optional(
      z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, "must look like 2024-10-21"),
    ),
    GEMINI_API_KEY: optional(z.string()),
    GEMINI_BASE_URL: optional(httpUrl()),
  })
  .superRefine((env, ctx) => {
    checkBudgetVariables(env, ctx);
    if (
      env.CHOREOAI_ENV === "production" && env.CHOREOAI_KEYS_FILE === undefined &&
      env.CHOREOAI_DATABASE_URL === undefined
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["CHOREOAI_KEYS_FILE"],
        message: "must be set when CHOREOAI_ENV=production (production never accepts any key), " +
          "unless CHOREOAI_DATABASE_URL keeps the key list in PostgreSQL",
      });
    }
    if (env.AZURE_OPENAI_API_KEY !== undefined && env.AZURE_OPENAI_ENDPOINT === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["AZURE_OPENAI_ENDPOINT"],
        message: "must be set when AZURE_OPENAI_API_KEY is set",
      });
    }
  });

/** Settings of one built-in provider. */
export interface ProviderSettings {
  readonly apiKey: string | undefined;
  readonly baseUrl: string;
}

/** The gateway's resolved configuration. */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly env: "development" | "production";
  readonly keysFile: string | undefined;
  readonly routingFile: string | undefined;
  readonly dbPath: string;
  /** How long stored Responses are kept, in milliseconds. */
  readonly responsesTtlMs: number;
  readonly redisUrl: string | undefined;
  /** PostgreSQL for usage, stored Responses and (without `keysFile`) keys; unset: SQLite. */
  readonly databaseUrl: string | undefined;
  readonly upstreamTimeoutMs: number;
  readonly maxBodyBytes: number;
  /** Largest non-streamed upstream answer (or error body) read; past it, 502 `upstream_error`. */
  readonly maxResponseBytes: number;
  readonly bodyTimeoutMs: number;
  readonly drainMs: number;
  readonly corsOrigins: readonly string[];
  readonly trustedProxies: readonly string[];
  readonly defaultRpm: number | undefined;
  readonly defaultTpm: number | undefined;
  /** The budget of keys that set none (`CHOREOAI_DEFAULT_BUDGET_*`); none: such keys have none. */
  readonly defaultBudget: Budget | undefined;
  /** Fetch http(s) image URLs for providers that only take image bytes (Gemini). */
  readonly fetchImageUrls: boolean;
  /**
   * How providers are called: `http1`, the gateway's own HTTP/1.1 client (cheaper per request;
   * Deno's fetch still serves what it does not: proxies, other schemes), or `fetch`.
   */
  readonly upstreamClient: "http1" | "fetch";
  /** Keep Prometheus metrics and serve them at `GET /metrics`. */
  readonly metrics: boolean;
  /** Make spans of model requests (`OTEL_DENO=true`: Deno's exporter is on). */
  readonly tracing: boolean;
  /**
   * Fetch fresher price data from the internet (the price package's own source) at start and
   * daily; off by default: the prices the package ships are used, offline.
   */
  readonly pricesUpdate: boolean;
  readonly providers: {
    readonly openai: ProviderSettings;
    readonly anthropic: ProviderSettings;
    readonly azure: ProviderSettings & { readonly apiVersion: string };
    readonly gemini: ProviderSettings;
  };
}

/** Start-up configuration is invalid; `problems` has one line per bad variable. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const SECRET_NAMES = new Set(VARIABLES.filter((v) => v.secret).map((v) => v.name));
const URLS = new Map(VARIABLES.flatMap((v) => v.url === undefined ? [] : [[v.name, v.url]]));

/** A variable's value as an error may show it: secrets never, URLs masked, at most 200 chars. */
function shownValue(name: string, value: string | undefined): string {
  if (value === undefined || SECRET_NAMES.has(name)) return "";
  const masked = URLS.get(name) === "one"
    ? maskUrlSecrets(value)
    : URLS.get(name) === "list"
    ? maskUrlListSecrets(value)
    : value;
  return ` (got ${JSON.stringify(masked.slice(0, 200))})`;
}

/** Turns a failed parse into one {@linkcode ConfigError} naming every bad variable. */
function configError(
  issues: readonly z.core.$ZodIssue[],
  env: Readonly<Record<string, string | undefined>>,
): ConfigError {
  const problems = new Map<string, string>();
  for (const issue of issues) {
    const name = String(issue.path[0] ?? "environment");
    if (problems.has(name)) continue;
    problems.set(name, `${name}: ${issue.message}${shownValue(name, env[name])}`);
  }
  return new ConfigError([...problems.values()]);
}

const BudgetEnvSchema = z.object(BUDGET_VARIABLES).superRefine(checkBudgetVariables);

/**
 * The default budget alone (`CHOREOAI_DEFAULT_BUDGET_USD` and `_PERIOD`), for the commands that
 * show budgets (`choreoai keys list`) without the rest of the configuration.
 *
 * @throws {ConfigError} naming the bad variables.
 */
export function parseDefaultBudget(
  env: Readonly<Record<string, string | undefined>>,
): Budget | undefined {
  const result = BudgetEnvSchema.safeParse(env);
  if (!result.success) throw configError(result.error.issues, env);
  const e = result.data;
  return defaultBudget(e.CHOREOAI_DEFAULT_BUDGET_USD, e.CHOREOAI_DEFAULT_BUDGET_PERIOD);
}

/**
 * Parses the environment into a {@linkcode Config}.
 *
 * @throws {ConfigError} naming every bad variable (secret values are never echoed, and URLs are
 * shown without their user-info or query).
 */
export function parseConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const result = EnvSchema.safeParse(env);
  if (!result.success) throw configError(result.error.issues, env);
  const e = result.data;
  return {
    host: e.CHOREOAI_HOST ?? "127.0.0.1",
    port: e.CHOREOAI_PORT ?? 8000,
    env: e.CHOREOAI_ENV ?? "development",
    keysFile: e.CHOREOAI_KEYS_FILE,
    routingFile: e.CHOREOAI_CONFIG,
    dbPath: e.CHOREOAI_DB ?? "./choreoai.db",
    responsesTtlMs: e.CHOREOAI_RESPONSES_TTL ?? 30 * 86_400_000,
    redisUrl: e.CHOREOAI_REDIS_URL,
    databaseUrl: e.CHOREOAI_DATABASE_URL,
    upstreamTimeoutMs: e.CHOREOAI_UPSTREAM_TIMEOUT_MS ?? 600_000,
    maxBodyBytes: e.CHOREOAI_MAX_BODY_BYTES ?? 20 * 1024 * 1024,
    maxResponseBytes: e.CHOREOAI_MAX_RESPONSE_BYTES ?? 64 * 1024 * 1024,
    bodyTimeoutMs: e.CHOREOAI_BODY_TIMEOUT_MS ?? 30_000,
    drainMs: e.CHOREOAI_DRAIN_MS ?? 25_000,
    corsOrigins: e.CHOREOAI_CORS_ORIGINS ?? [],
    trustedProxies: e.CHOREOAI_TRUSTED_PROXIES ?? [],
    defaultRpm: e.CHOREOAI_DEFAULT_RPM,
    defaultTpm: e.CHOREOAI_DEFAULT_TPM,
    defaultBudget: defaultBudget(e.CHOREOAI_DEFAULT_BUDGET_USD, e.CHOREOAI_DEFAULT_BUDGET_PERIOD),
    fetchImageUrls: e.CHOREOAI_FETCH_IMAGE_URLS === "true",
    upstreamClient: e.CHOREOAI_UPSTREAM_CLIENT ?? "http1",
    metrics: e.CHOREOAI_METRICS !== "false",
    tracing: e.OTEL_DENO?.toLowerCase() === "true",
    pricesUpdate: e.CHOREOAI_PRICES_UPDATE === "true",
    providers: {
      openai: {
        apiKey: e.OPENAI_API_KEY,
        baseUrl: e.OPENAI_BASE_URL ?? "https://api.openai.com/v1",
      },
      anthropic: {
        apiKey: e.ANTHROPIC_API_KEY,
        baseUrl: e.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com",
      },
      azure: {
        apiKey: e.AZURE_OPENAI_API_KEY,
        baseUrl: e.AZURE_OPENAI_ENDPOINT ?? "",
        apiVersion: e.AZURE_OPENAI_API_VERSION ?? "2024-10-21",
      },
      gemini: {
        apiKey: e.GEMINI_API_KEY,
        baseUrl: e.GEMINI_BASE_URL ?? "https://generativelanguage.googleapis.com",
      },
    },
  };
}

/** Whether a listen address is loopback-only (development mode warns loudly otherwise). */
export function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  const bare = host.replace(/^\[|\]$/g, "");
  if (!ipaddr.isValid(bare)) return false;
  const address = ipaddr.process(bare);
  return address.range() === "loopback";
}
