/** What the admin API works with, built once by `createHandler`. */
import type { KeyListAccess } from "../../keys/key_list_access.ts";
import type { Logger } from "../../log.ts";
import type { ProviderHealth } from "../../observe/provider_health.ts";
import type { Breakers } from "../../routing/breaker.ts";
import type { Routing } from "../../routing/table.ts";
import type { Budget } from "../../spend/budget.ts";
import type { AppDeps } from "../../server.ts";
import type { UsageReader } from "../../usage/reader.ts";

/** The admin API's dependencies. */
export interface AdminApiDeps {
  /** The key list to read and change; none in development mode (no key list). */
  readonly keyList: KeyListAccess | undefined;
  /** Reloads this replica's key list, so a change is in force before the answer is sent. */
  readonly reloadKeys: () => Promise<unknown>;
  /** Recorded usage; none: the usage pages answer as if nothing was recorded. */
  readonly usage: UsageReader | undefined;
  readonly providerHealth: ProviderHealth;
  /** The routing table in force (its targets are listed on the providers page). */
  readonly routing: () => Routing;
  readonly breakers: Breakers;
  /** The budget of keys without their own (CHOREOAI_DEFAULT_BUDGET_*). */
  readonly defaultBudget: Budget | undefined;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Cryptographically random bytes (new keys and their ids). */
  readonly randomBytes: (length: number) => Uint8Array;
  readonly log: Logger;
}

/**
 * The admin API's dependencies from the gateway's, and the routing, breakers and provider
 * tracker `createHandler` made.
 */
export function createAdminApiDeps(
  deps: AppDeps,
  made: Pick<AdminApiDeps, "routing" | "breakers" | "providerHealth">,
): AdminApiDeps {
  const { keyStore } = deps;
  return {
    ...made,
    keyList: deps.keyList,
    reloadKeys: () => keyStore?.reload() ?? Promise.resolve("unchanged"),
    usage: deps.usageReader,
    defaultBudget: deps.config.defaultBudget,
    now: deps.now,
    randomBytes: deps.randomBytes ?? ((length) => crypto.getRandomValues(new Uint8Array(length))),
    log: deps.log,
  };
}
