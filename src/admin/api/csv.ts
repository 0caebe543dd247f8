/**
 * CSV (RFC 4180) for the admin API's exports: a header line, then one line per row, CRLF line
 * ends. A text cell that a spreadsheet would run as a formula (`=`, `+`, `@`, a tab, or `-`
 * followed by more) is prefixed with `'`, since model names come from clients.
 */

const FORMULA_REGEXP = /^(?:[=+@\t\r]|-.)/s;

function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return String(value);
  let text = String(value);
  if (FORMULA_REGEXP.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** `rows` as CSV with the columns `columns`, in that order. */
export function toCsv(
  columns: readonly string[],
  rows: readonly Readonly<Record<string, unknown>>[],
): string {
  const lines = [columns.map(cell).join(",")];
  for (const row of rows) lines.push(columns.map((column) => cell(row[column])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
