/** Small statistics helpers: quantiles and a median-with-spread summary. */

/** The `q` quantile (0…1) of `values`, linear interpolation; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (position - low);
}

/** The median of `values`; NaN when empty. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Median and spread of one metric across rounds. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly q1: number;
  readonly q3: number;
  readonly n: number;
}

/** Summarises the finite values (rounds where the metric exists); `undefined` when none. */
export function summarize(values: readonly (number | null | undefined)[]): Summary | undefined {
  const finite = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (finite.length === 0) return undefined;
  return {
    median: median(finite),
    min: Math.min(...finite),
    max: Math.max(...finite),
    q1: quantile(finite, 0.25),
    q3: quantile(finite, 0.75),
    n: finite.length,
  };
}
