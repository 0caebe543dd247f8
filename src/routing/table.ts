/**
 * The compiled routing table: every provider the gateway can call (built-in providers with a
 * key, and those the routing file declares) and every public model name with its targets.
 *
 * Compiling is pure: the environment is passed in (main.ts reads it once), and every mistake is
 * reported at once, naming its place, so a bad file stops the start (or, on reload, is refused
 * while the last good table stays in force).
 */
import type { Config } from "../config.ts";
import type { ProviderAdapter } from "../providers/mod.ts";
import { adapterFor, type ProviderKind } from "../providers/registry.ts";
import type { Prices } from "../spend/pricing.ts";
import {
  BUILT_IN_PROVIDERS,
  type PricesDeclaration,
  type ProviderDeclaration,
  type RoutingFile,
  RoutingFileError,
} from "./routing_file.ts";

/** A provider the gateway can call, with its server-side credentials. */
export interface ConfiguredProvider {
  /** The provider's name: a built-in name or the routing file's. */
  readonly name: string;
  readonly kind: ProviderKind;
  readonly adapter: ProviderAdapter;
  readonly baseUrl: string;
  /** Empty when the provider takes no key (a local OpenAI-compatible server). */
  readonly apiKey: string;
  readonly apiVersion?: string | undefined;
  readonly streamUsage: boolean;
  /** Extra headers sent with every request to this provider. */
  readonly headers: Readonly<Record<string, string>>;
}

/** One place a model can be served from. */
export interface RouteTarget {
  readonly provider: ConfiguredProvider;
  /** The model (or Azure deployment) name the provider knows. */
  readonly model: string;
  readonly weight: number;
  /** `provider/model`: the unit a circuit breaker cools down. */
  readonly key: string;
  /**
   * The routing file's prices for this target: its own `"prices"`, else its public model's;
   * undefined when the file sets none (the price package's are used, if it knows the model).
   */
  readonly prices?: Prices | undefined;
}

/** A model the client can ask for, and how a call to it is made. */
export interface ModelRoute {
  readonly name: string;
  readonly targets: readonly RouteTarget[];
  /** Further attempts after the first, on connection errors, timeouts, 429 and 5xx. */
  readonly retries: number;
  /** Idle timeout of each attempt (headers, then between stream events). */
  readonly timeoutMs: number;
  /** Longest time before the first byte, over all attempts and fallbacks. */
  readonly deadlineMs: number;
  /** Targets of the routing file left out because their provider has no key, and why. */
  readonly missing?: readonly string[];
  /** The routing file's `"prices"` of this public model (its targets' own win over them). */
  readonly prices?: Prices | undefined;
}

/** A public model name of the routing file. */
export interface PublicModel extends ModelRoute {
  /** Models tried in order once this one's attempts are spent (their own fallbacks are not). */
  readonly fallbacks: readonly ModelRoute[];
}

/** When a target that keeps failing is cooled down. */
export interface BreakerSettings {
  /** Consecutive failures that open the breaker. */
  readonly failures: number;
  /** How long an open breaker keeps the target out. */
  readonly cooldownMs: number;
}

/** The compiled routing table. */
export interface Routing {
  readonly providers: ReadonlyMap<string, ConfiguredProvider>;
  readonly models: ReadonlyMap<string, PublicModel>;
  /** Built-in providers without a key, and the variable that would enable each. */
  readonly unkeyed: ReadonlyMap<string, string>;
  /** Idle timeout of routes the file does not describe. */
  readonly defaultTimeoutMs: number;
  readonly breaker: BreakerSettings;
  /**
   * What the routing file names but cannot use yet: providers whose key variable is not set, and
   * the targets and fallbacks that need them. Logged at load; such routes answer 404 naming the
   * variable, as a built-in provider without a key does.
   */
  readonly warnings: readonly string[];
}

/** Why a model name cannot be routed; `missingKey` when only a key is missing. */
export interface Unroutable {
  readonly reason: string;
  readonly missingKey?: string | undefined;
}

/** The variable that must be set for each built-in provider to be routable. */
export const PROVIDER_KEY_VARIABLE: Readonly<Record<(typeof BUILT_IN_PROVIDERS)[number], string>> =
  {
    openai: "OPENAI_API_KEY",
    anthropic: "ANTHROPIC_API_KEY",
    azure: "AZURE_OPENAI_API_KEY",
    gemini: "GEMINI_API_KEY",
  };

/** Prices as the file wrote them, without the optional ones it left out. */
function toPrices(declared: PricesDeclaration | undefined): Prices | undefined {
  if (declared === undefined) return undefined;
  const { cache_read_per_mtok, cache_write_per_mtok } = declared;
  return {
    input_per_mtok: declared.input_per_mtok,
    output_per_mtok: declared.output_per_mtok,
    ...(cache_read_per_mtok === undefined ? {} : { cache_read_per_mtok }),
    ...(cache_write_per_mtok === undefined ? {} : { cache_write_per_mtok }),
  };
}

const DEFAULT_BREAKER: BreakerSettings = { failures: 3, cooldownMs: 30_000 };

function builtInProviders(config: Config): {
  providers: Map<string, ConfiguredProvider>;
  unkeyed: Map<string, string>;
} {
  const providers = new Map<string, ConfiguredProvider>();
  const unkeyed = new Map<string, string>();
  for (const name of BUILT_IN_PROVIDERS) {
    const settings = config.providers[name];
    if (settings.apiKey === undefined) {
      unkeyed.set(name, PROVIDER_KEY_VARIABLE[name]);
      continue;
    }
    const kind: ProviderKind = name === "openai" ? "openai-compatible" : name;
    providers.set(name, {
      name,
      kind,
      adapter: adapterFor(kind, name),
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      apiVersion: name === "azure" ? config.providers.azure.apiVersion : undefined,
      streamUsage: true,
      headers: {},
    });
  }
  return { providers, unkeyed };
}

const DEFAULT_BASE_URL: Readonly<Record<"anthropic" | "gemini", string>> = {
  anthropic: "https://api.anthropic.com",
  gemini: "https://generativelanguage.googleapis.com",
};

function declaredProvider(
  name: string,
  declaration: ProviderDeclaration,
  env: Readonly<Record<string, string | undefined>>,
): ConfiguredProvider | undefined {
  let apiKey = "";
  if (declaration.api_key_env !== undefined) {
    const value = env[declaration.api_key_env];
    if (value === undefined || value === "") return undefined;
    apiKey = value;
  }
  const base = {
    name,
    kind: declaration.kind,
    adapter: adapterFor(declaration.kind, name),
    apiKey,
    headers: declaration.headers ?? {},
  };
  switch (declaration.kind) {
    case "openai-compatible":
      return {
        ...base,
        baseUrl: declaration.base_url,
        streamUsage: declaration.stream_usage ?? true,
      };
    case "azure":
      return {
        ...base,
        baseUrl: declaration.endpoint,
        apiVersion: declaration.api_version ?? "2024-10-21",
        streamUsage: declaration.stream_usage ?? true,
      };
    case "anthropic":
    case "gemini":
      return {
        ...base,
        baseUrl: declaration.base_url ?? DEFAULT_BASE_URL[declaration.kind],
        streamUsage: true,
      };
  }
}

/**
 * Compiles the routing table from the configuration, the routing file (if any) and the
 * environment that holds the keys the file names.
 *
 * @param resolveBuiltIn resolves a fallback name that is not a public name (built-in routing).
 * @throws {RoutingFileError} naming every problem.
 */
export function compileRouting(
  config: Config,
  file: RoutingFile | undefined,
  env: Readonly<Record<string, string | undefined>>,
  resolveBuiltIn: (name: string, routing: Routing) => ModelRoute | Unroutable,
): Routing {
  const { providers, unkeyed } = builtInProviders(config);
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const [name, declaration] of Object.entries(file?.providers ?? {})) {
    const provider = declaredProvider(name, declaration, env);
    if (provider !== undefined) {
      providers.set(name, provider);
    } else if (declaration.api_key_env !== undefined) {
      unkeyed.set(name, declaration.api_key_env);
      warnings.push(
        `providers.${name}.api_key_env: ${declaration.api_key_env} is not set; ` +
          `${name} is not routable until it is`,
      );
    }
  }
  const declaredNames = new Set(Object.keys(file?.providers ?? {}));
  const defaultTimeoutMs = config.upstreamTimeoutMs;
  const routes = new Map<string, ModelRoute>();
  for (const [name, model] of Object.entries(file?.models ?? {})) {
    const targets: RouteTarget[] = [];
    const missing: string[] = [];
    const modelPrices = toPrices(model.prices);
    model.targets.forEach((target, i) => {
      const at = `models.${name}.targets[${i}].provider`;
      const provider = providers.get(target.provider);
      if (provider !== undefined) {
        targets.push({
          provider,
          model: target.model,
          weight: target.weight ?? 1,
          key: `${target.provider}/${target.model}`,
          prices: toPrices(target.prices) ?? modelPrices,
        });
      } else if (unkeyed.has(target.provider)) {
        const why = `${target.provider} has no key (${unkeyed.get(target.provider)} is not set)`;
        missing.push(why);
        warnings.push(`${at}: ${why}; this target is left out`);
      } else if (!declaredNames.has(target.provider)) {
        problems.push(`${at}: no provider named "${target.provider}"`);
      }
    });
    const timeoutMs = model.timeout_ms ?? defaultTimeoutMs;
    routes.set(name, {
      name,
      targets,
      retries: model.retries ?? 0,
      timeoutMs,
      deadlineMs: model.deadline_ms ?? timeoutMs,
      missing,
      prices: modelPrices,
    });
  }
  const partial: Routing = {
    providers,
    models: new Map(),
    unkeyed,
    defaultTimeoutMs,
    warnings,
    breaker: {
      failures: file?.circuit_breaker?.failures ?? DEFAULT_BREAKER.failures,
      cooldownMs: file?.circuit_breaker?.cooldown_ms ?? DEFAULT_BREAKER.cooldownMs,
    },
  };
  const models = new Map<string, PublicModel>();
  for (const [name, route] of routes) {
    const fallbacks: ModelRoute[] = [];
    const seen = new Set([name]);
    (file?.models?.[name]?.fallbacks ?? []).forEach((fallback, i) => {
      const at = `models.${name}.fallbacks[${i}]`;
      if (seen.has(fallback)) {
        problems.push(`${at}: "${fallback}" is already in this model's chain`);
        return;
      }
      seen.add(fallback);
      const resolved = routes.get(fallback) ?? resolveBuiltIn(fallback, partial);
      if (!("reason" in resolved)) fallbacks.push(resolved);
      else if (resolved.missingKey === undefined) problems.push(`${at}: ${resolved.reason}`);
      else warnings.push(`${at}: ${resolved.missingKey} is not set; this fallback is left out`);
    });
    models.set(name, { ...route, fallbacks });
  }
  if (problems.length > 0) throw new RoutingFileError(problems);
  return { ...partial, models };
}
