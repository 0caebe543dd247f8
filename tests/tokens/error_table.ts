/**
 * The token estimator's error against the exact o200k_base count, by category: the rows of the
 * table that tests/tokens/estimate_test.ts checks and bench/token_estimate.ts prints.
 */
import { encode } from "gpt-tokenizer";
import { estimateTokens } from "../../src/tokens/estimate.ts";
import type { Sample } from "./corpus.ts";

/** Text that looks like a special token is counted as plain text, as the gateway does. */
const PLAIN = { disallowedSpecial: new Set<string>() };

/** One sample's exact and estimated counts. */
export interface Measured {
  readonly category: string;
  readonly text: string;
  readonly exact: number;
  readonly estimate: number;
  /** estimate / exact. */
  readonly ratio: number;
}

/** One row of the table: a category, or "all". */
export interface ErrorRow {
  readonly category: string;
  readonly n: number;
  readonly exact: number;
  readonly estimate: number;
  /** Median, min and max of the per-sample ratio estimate / exact. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Sum of the estimates over sum of the exact counts. */
  readonly total: number;
  /** The share of samples whose estimate is below the exact count. */
  readonly under: number;
}

/** Counts every sample both ways. */
export function measure(samples: readonly Sample[]): Measured[] {
  return samples.map(({ category, text }) => {
    const exact = encode(text, PLAIN).length;
    const estimate = estimateTokens(text);
    return { category, text, exact, estimate, ratio: estimate / exact };
  });
}

function row(category: string, measured: readonly Measured[]): ErrorRow {
  const ratios = measured.map((m) => m.ratio).sort((a, b) => a - b);
  const exact = measured.reduce((sum, m) => sum + m.exact, 0);
  const estimate = measured.reduce((sum, m) => sum + m.estimate, 0);
  const middle = ratios.length >> 1;
  return {
    category,
    n: measured.length,
    exact,
    estimate,
    median: ratios.length % 2 === 1
      ? ratios[middle] as number
      : ((ratios[middle - 1] as number) + (ratios[middle] as number)) / 2,
    min: ratios[0] as number,
    max: ratios.at(-1) as number,
    total: estimate / exact,
    under: measured.filter((m) => m.estimate < m.exact).length / measured.length,
  };
}

/** One row per category (in the samples' order), then "all". */
export function errorTable(measured: readonly Measured[]): ErrorRow[] {
  const categories = [...new Set(measured.map((m) => m.category))];
  return [
    ...categories.map((category) => row(category, measured.filter((m) => m.category === category))),
    row("all", measured),
  ];
}

/** The table as Markdown. */
export function formatErrorTable(rows: readonly ErrorRow[]): string {
  const lines = [
    "| category | n | exact tokens | estimate / exact (total) | median | min | max | under |",
    "| --- | --: | --: | --: | --: | --: | --: | --: |",
  ];
  const f = (n: number) => n.toFixed(2);
  for (const r of rows) {
    lines.push(
      `| ${r.category} | ${r.n} | ${r.exact} | ${f(r.total)} | ${f(r.median)} | ${f(r.min)} | ${
        f(r.max)
      } | ${Math.round(r.under * 100)}% |`,
    );
  }
  return lines.join("\n");
}
