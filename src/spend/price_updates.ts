/**
 * Fresher price data for `@pydantic/genai-prices`, through the package's own update mechanism
 * (`updatePrices`): off unless the operator sets `CHOREOAI_PRICES_UPDATE=true`. The data is
 * fetched in the background at start and then once per interval (checked when a request is
 * priced, never waited for); a failure is logged and the prices in use stay, which are the
 * package's own as shipped until an update succeeds. The gateway never needs the internet to
 * price requests.
 */
import { updatePrices, waitForUpdate } from "@pydantic/genai-prices";
import { describeError, type Logger } from "../log.ts";

/** How often fresher data is fetched by default: once a day. */
export const DEFAULT_PRICE_UPDATE_INTERVAL_MS = 24 * 3_600_000;

/** Options of {@linkcode startPriceUpdates}. */
export interface PriceUpdateOptions {
  readonly fetch: typeof fetch;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly log: Logger;
  /** Time between fetches; default {@linkcode DEFAULT_PRICE_UPDATE_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** Longest wait for the data; default 30 s. */
  readonly timeoutMs?: number;
  /** Called once new data is in force (to forget prices looked up in the old). */
  readonly onUpdated?: () => void;
}

/** What the package passes to an update setup (`StorageFactoryParams` in its types). */
interface UpdateHooks {
  onCalc(callback: () => void): void;
  readonly remoteDataUrl: string;
  setProviderData(data: Promise<unknown[] | null> | unknown[] | null): void;
}

/**
 * Turns price updates on: the first fetch starts now; the next is due `intervalMs` after the
 * last attempt and starts when a request is priced after that. There is one package, so one
 * setup per process. Returns a promise of the first update's end (for tests; never rejects).
 */
export function startPriceUpdates(options: PriceUpdateOptions): Promise<void> {
  const { log, now } = options;
  const intervalMs = options.intervalMs ?? DEFAULT_PRICE_UPDATE_INTERVAL_MS;
  const timeoutMs = options.timeoutMs ?? 30_000;
  let hooks: UpdateHooks | undefined;
  let lastAttempt = -Infinity;
  let running = false;

  /** The data, or null (keep the data in use) after logging why. */
  const download = async (url: string): Promise<unknown[] | null> => {
    try {
      const response = await options.fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`HTTP ${response.status}`);
      }
      const data: unknown = await response.json();
      if (!Array.isArray(data) || data.length === 0) {
        throw new Error("the data is not a list of providers");
      }
      return data;
    } catch (error) {
      log.warn("price data update failed: keeping the prices in use", {
        url,
        error: error instanceof Error ? error.message : String(error),
      });
      return null;
    }
  };

  const update = async (): Promise<void> => {
    if (hooks === undefined || running) return;
    running = true;
    lastAttempt = now();
    try {
      const data = await download(hooks.remoteDataUrl);
      if (data === null) return;
      hooks.setProviderData(data);
      await waitForUpdate();
      options.onUpdated?.();
      log.info("price data updated", { providers: data.length });
    } catch (error) {
      log.warn("price data update failed: keeping the prices in use", describeError(error));
    } finally {
      running = false;
    }
  };

  updatePrices((params: UpdateHooks) => {
    hooks = params;
    params.onCalc(() => {
      if (!running && now() - lastAttempt >= intervalMs) void update();
    });
  });
  return update();
}
