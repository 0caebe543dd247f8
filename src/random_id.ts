/**
 * Random ids for requests and completions: 128 random bits as 32 hex digits, drawn from a pool
 * of random bytes refilled in one call when used up (one `crypto.randomUUID()` per id costs a
 * runtime call and a string rewrite each time).
 */

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** Bytes per id. */
const ID_BYTES = 16;

/**
 * A source of ids that fills its pool with `fill` (`crypto.getRandomValues` in main.ts), passed
 * in so that this stays testable.
 *
 * @example Usage
 * ```ts
 * import { createRandomIds } from "./random_id.ts";
 * const randomId = createRandomIds((bytes) => crypto.getRandomValues(bytes));
 * randomId(); // e.g. "3f2a…" (32 hex digits)
 * ```
 */
export function createRandomIds(fill: (bytes: Uint8Array) => void, poolIds = 256): () => string {
  const pool = new Uint8Array(ID_BYTES * poolIds);
  let offset = pool.length;
  return () => {
    if (offset === pool.length) {
      fill(pool);
      offset = 0;
    }
    let id = "";
    for (let i = offset; i < offset + ID_BYTES; i++) id += HEX[pool[i] as number];
    // Used bytes are wiped, so an id is never drawn twice even if `fill` failed to refill.
    pool.fill(0, offset, offset + ID_BYTES);
    offset += ID_BYTES;
    return id;
  };
}
