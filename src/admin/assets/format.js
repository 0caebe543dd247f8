/** How numbers, money, durations and times read on the admin page. */

const integer = new Intl.NumberFormat("en-US");
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

/** 1234 → "1,234"; past a million, "1.2M". */
export function count(value) {
  if (value === null || value === undefined) return "–";
  return Math.abs(value) >= 1e6 ? compact.format(value) : integer.format(value);
}

/** US dollars: "$0.0042", "$1.25", "$1,234.50". */
export function usd(value) {
  if (value === null || value === undefined) return "–";
  const digits = value !== 0 && Math.abs(value) < 0.01 ? 4 : 2;
  return `$${
    value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
  }`;
}

/** Milliseconds: "85 ms", "1.2 s"; "–" when there were no requests. */
export function ms(value) {
  if (value === null || value === undefined) return "–";
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/** A ratio in [0, 1] as a percentage: "2.5%". */
export function percent(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return `${(value * 100).toFixed(value > 0 && value < 0.1 ? 1 : 0)}%`;
}

/** An ISO time as local date and time ("2026-12-03 14:05"), or `fallback` when null. */
export function time(iso, fallback = "–") {
  if (iso === null || iso === undefined) return fallback;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** How long ago an ISO time was: "just now", "5 min ago", "3 h ago", "2 d ago". */
export function ago(iso, now = Date.now()) {
  if (iso === null || iso === undefined) return "never";
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** The periods of the API, with their labels. */
export const PERIODS = [["hour", "Last hour"], ["day", "Last 24 hours"], ["month", "Last 30 days"]];

/** A period from a query parameter, `day` unless it is a known one. */
export function period(value) {
  return PERIODS.some(([name]) => name === value) ? value : "day";
}
