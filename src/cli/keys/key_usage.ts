/**
 * What `keys list` and `keys show` read from the usage store (CHOREOAI_DATABASE_URL's database,
 * else CHOREOAI_DB): each key's last use and request count, and its spend in its budget's
 * current period. What cannot be read is left out with a warning, never an error.
 */
import type { KeyFile, KeyRecord } from "../../keys/key_file.ts";
import { budgetStatus, type KeyUsage, readKeyUsage as readUsage } from "../../keys/view.ts";
import type { CliIo } from "../io.ts";
import { withUsageReader } from "../usage_reader.ts";

export type { BudgetStatus, KeyStats, KeyUsage, KeyView } from "../../keys/view.ts";

/**
 * Reads the last use, request count and budget spend of `keys`, in one visit to the usage
 * store (CHOREOAI_DATABASE_URL's database, else CHOREOAI_DB); what cannot be read is warned
 * about on stderr.
 */
export async function readKeyUsage(
  keys: readonly KeyRecord[],
  { file, io, now }: { file: KeyFile; io: CliIo; now: number },
): Promise<KeyUsage> {
  const { defaultBudget } = io;
  try {
    return await withUsageReader(io, async (reader) => {
      const usage = await readUsage(keys, { file, reader, defaultBudget, now });
      const { problems } = usage;
      if (problems.usage !== undefined) {
        io.stderr(`warning: ${problems.usage}: last use and request counts are left out\n`);
      }
      if (problems.spent !== undefined) {
        io.stderr(`warning: ${problems.spent}: spent is shown as ?\n`);
      }
      return usage;
    });
  } catch (error) {
    // The database could not be opened (its message names it, password hidden).
    const reason = error instanceof Error ? error.message : String(error);
    io.stderr(`warning: ${reason}: last use, request counts and spent are left out\n`);
    return {
      stats: new Map(),
      budgetOf: (key) => budgetStatus(key, undefined, { defaultBudget, now }),
      problems: {},
    };
  }
}
