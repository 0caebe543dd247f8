/**
 * Building the routing table: from the configuration alone, or with the routing file
 * (`CHOREOAI_CONFIG`), which is watched and reloaded like the key list.
 */
import type { Config } from "../config.ts";
import { openWatchedFile, type WatchedFile } from "../files/watched.ts";
import type { Logger } from "../log.ts";
import { resolveDirect } from "./route.ts";
import { parseRoutingFile, type RoutingFile } from "./routing_file.ts";
import { compileRouting, type Routing } from "./table.ts";

/** The environment a routing file's `api_key_env` names are read from (main.ts reads it once). */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Compiles the routing table. Pure.
 *
 * @throws {RoutingFileError} naming every problem of the file.
 */
export function buildRouting(
  config: Config,
  file: RoutingFile | undefined = undefined,
  env: Environment = {},
): Routing {
  return compileRouting(config, file, env, resolveDirect);
}

/**
 * Loads and watches the routing file at `path`.
 *
 * @throws when the file is missing, unreadable or invalid (the gateway must not start).
 */
export function openRoutingFile(
  path: string,
  config: Config,
  env: Environment,
  log: Logger,
): Promise<WatchedFile<Routing>> {
  return openWatchedFile(path, {
    compile: (text) => buildRouting(config, parseRoutingFile(text), env),
    label: "routing file",
    describe: (routing) => ({
      models: routing.models.size,
      providers: routing.providers.size,
      ...(routing.warnings.length > 0 ? { not_routable: routing.warnings } : {}),
    }),
    log,
  });
}
