/**
 * Persistent usage records in SQLite (CHOREOAI_DB): the recorder the server writes through, and
 * the read side used by `choreoai usage` and `choreoai keys list`.
 */
export { openUsageRecorder, type UsageRecord, type UsageRecorder } from "./recorder.ts";
export {
  type DailyUsage,
  type DailyUsageRow,
  type KeyStats,
  NO_MODEL,
  readKeyStats,
  summarizeUsage,
  summarizeUsageByDay,
  type UsageSummary,
  type UsageSummaryRow,
} from "./query.ts";
