/**
 * Building the routing table: from the configuration alone, or with the routing file
 * (`CHOREOAI_CONFIG`), which is watched and reloaded like the key list.
 */
import type { Config } from "../config.ts";
import { openWatchedFile, type WatchedFile } from "../files/watched.ts";
import type { Logger } from "../log.ts";
import { resolveDirect } from "./route.ts";
import { parseRoutingFile, type RoutingFile, RoutingFileError } from "./routing_file.ts";
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
 * Reads the routing file's text and compiles the routing table. Every mistake is reported at
 * once: when the file's shape is refused, the names it uses are still checked as far as they
 * can be read (a target naming no provider, a fallback that cannot be routed).
 *
 * @throws {RoutingFileError} naming every mistake, each with its place.
 */
export function compileRoutingFile(text: string, config: Config, env: Environment): Routing {
  let file: RoutingFile;
  try {
    file = parseRoutingFile(text);
  } catch (error) {
    if (!(error instanceof RoutingFileError) || error.names === undefined) throw error;
    throw error.withNameProblems(nameProblems(() => buildRouting(config, error.names, env)));
  }
  return buildRouting(config, file, env);
}

function nameProblems(compile: () => Routing): readonly string[] {
  try {
    compile();
    return [];
  } catch (error) {
    if (error instanceof RoutingFileError) return error.problems;
    throw error;
  }
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
    compile: (text) => compileRoutingFile(text, config, env),
    label: "routing file",
    describe: (routing) => ({
      routing_models: routing.models.size,
      routing_providers: routing.providers.size,
      ...(routing.warnings.length > 0 ? { not_routable: routing.warnings } : {}),
    }),
    log,
  });
}
