/**
 * Reads an environment variable where the runtime has one (Deno, Node, Bun), and nothing in a
 * browser. Never throws and never prompts: without permission, the variable reads as unset.
 */

/** The parts of the runtimes' globals this module looks at. */
interface EnvHost {
  readonly Deno?: {
    readonly env?: { get(name: string): string | undefined };
    readonly permissions?: {
      querySync?(descriptor: { name: "env"; variable: string }): { state: string };
    };
  };
  readonly process?: { readonly env?: Record<string, string | undefined> };
}

/** The value of `name`, or `undefined` when it is unset, empty or cannot be read. */
export function readEnv(name: string): string | undefined {
  const host = globalThis as EnvHost;
  try {
    const deno = host.Deno;
    if (deno?.env !== undefined) {
      // Ask first, so that an interactive `deno run` without --allow-env does not prompt.
      const state = deno.permissions?.querySync?.({ name: "env", variable: name }).state;
      if (state !== undefined && state !== "granted") return undefined;
      return nonEmpty(deno.env.get(name));
    }
    return nonEmpty(host.process?.env?.[name]);
  } catch {
    return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}
