// deno-lint-ignore-file no-console -- a CLI script: it prints the table
/**
 * Prints the token estimator's error against the exact o200k_base count, by category of the
 * test corpus (tests/tokens/corpus.ts), as a Markdown table.
 *
 *     deno task bench:tokens
 */
import { corpus } from "../tests/tokens/corpus.ts";
import { errorTable, formatErrorTable, measure } from "../tests/tokens/error_table.ts";

console.log(formatErrorTable(errorTable(measure(corpus()))));
