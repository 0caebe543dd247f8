/**
 * The models the gateway can route: `choreoai/echo`, the routing file's public names, and, for
 * each keyed provider, the provider's own list as `provider/model`, cached for 10 minutes. A
 * provider whose list cannot be fetched is left out (and asked again after a short pause),
 * never turned into an error.
 */
import type { Logger } from "../log.ts";
import { ECHO_MODEL } from "../routing/route.ts";
import type { ConfiguredProvider, Routing } from "../routing/table.ts";
import { describeError } from "../log.ts";
import { readAtMost } from "../http/bounded_read.ts";

/** OpenAI's `model` object. */
export interface ModelEntry {
  readonly id: string;
  readonly object: "model";
  readonly created: number;
  readonly owned_by: string;
}

/** Dependencies of the catalog. */
export interface CatalogDeps {
  readonly fetch: typeof fetch;
  readonly now: () => number;
  readonly log: Logger;
  /** Longest wait for a provider's list. */
  readonly timeoutMs: number;
  /** The most bytes of a list read (`CHOREOAI_MAX_RESPONSE_BYTES`); a longer one is left out. */
  readonly maxBytes: number;
}

/** The list of routable models. */
export interface ModelCatalog {
  list(routing: Routing): Promise<ModelEntry[]>;
}

const TTL_MS = 10 * 60_000;
const FAILURE_TTL_MS = 30_000;
/** 2025-11-25, when the echo model first shipped. */
const ECHO_CREATED = 1_764_028_800;

const ECHO_ENTRY: ModelEntry = {
  id: ECHO_MODEL,
  object: "model",
  created: ECHO_CREATED,
  owned_by: "choreoai",
};

interface CacheEntry {
  expires: number;
  models: Promise<ModelEntry[]>;
}

/** Creates the catalog; lists are fetched lazily, once per TTL, shared by concurrent callers. */
export function createModelCatalog(deps: CatalogDeps): ModelCatalog {
  const cache = new Map<string, CacheEntry>();

  async function fetchList(provider: ConfiguredProvider, entry: CacheEntry): Promise<ModelEntry[]> {
    const { name } = provider;
    try {
      const request = provider.adapter.listModelsRequest(provider);
      if (request === undefined) return [];
      for (const [header, value] of Object.entries(provider.headers)) {
        request.headers.set(header, value);
      }
      const response = await deps.fetch(
        request.url,
        request.init(AbortSignal.timeout(deps.timeoutMs)),
      );
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`HTTP ${response.status}`);
      }
      const bytes = response.body === null ? new Uint8Array() : await readAtMost(
        response.body.getReader(),
        {
          maxBytes: deps.maxBytes,
          tooLarge: () => new RangeError(`the list is larger than ${deps.maxBytes} bytes`),
        },
      );
      const models = provider.adapter.parseModelList(JSON.parse(new TextDecoder().decode(bytes)));
      return models.map((model) => ({
        id: `${name}/${model.id}`,
        object: "model",
        created: model.created,
        owned_by: name,
      }));
    } catch (error) {
      deps.log.warn("model list unavailable", { provider: name, ...describeError(error) });
      entry.expires = deps.now() + FAILURE_TTL_MS;
      return [];
    }
  }

  function providerModels(provider: ConfiguredProvider): Promise<ModelEntry[]> {
    // Keyed by what the list depends on, so a reloaded routing file is asked afresh.
    const name = `${provider.name} ${provider.baseUrl} ${provider.apiKey.length}`;
    const cached = cache.get(name);
    if (cached !== undefined && cached.expires > deps.now()) return cached.models;
    const entry: CacheEntry = { expires: deps.now() + TTL_MS, models: Promise.resolve([]) };
    entry.models = fetchList(provider, entry);
    cache.set(name, entry);
    return entry.models;
  }

  return {
    async list(routing) {
      const published: ModelEntry[] = [...routing.models.keys()].map((id) => ({
        id,
        object: "model",
        created: ECHO_CREATED,
        owned_by: "choreoai",
      }));
      const lists = await Promise.all([...routing.providers.values()].map(providerModels));
      return [ECHO_ENTRY, ...published, ...lists.flat()];
    },
  };
}
