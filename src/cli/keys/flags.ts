/**
 * Parsing of the flags of `choreoai keys …`: names, expiry times and durations, the role,
 * model, endpoint and IP scopes, rate limits and budgets, checked by the rules the admin API
 * shares (src/keys/settings.ts). Every bad value is a UsageError.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { KeyRecordSchema } from "../../keys/key_file.ts";
import type { NewKeySettings } from "../../keys/new_record.ts";
import {
  checkBudgetPeriod,
  checkBudgetUsd,
  checkDuration,
  checkEndpointsForRole,
  checkExpiry,
  checkLimit,
  checkModels,
  checkName,
  checkScopeList,
  FLAG_LABELS,
  KeySettingsError,
  laterTime as checkLaterTime,
} from "../../keys/settings.ts";
import type { Budget } from "../../spend/budget.ts";
import type { BudgetPeriod } from "../../spend/period.ts";
import { type CommandName, shown, UsageError } from "./_shared.ts";

/** `-h, --help`, which every command takes. */
export const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;
/** `--json`, for the commands that can print JSON. */
export const JSON_OPTION = { json: { type: "boolean" } } as const;

/** `--budget-usd` and `--budget-period`, of `create`, `add` and `set-budget`. */
export const BUDGET_OPTIONS = {
  "budget-usd": { type: "string" },
  "budget-period": { type: "string" },
} as const;

/** The options of `create` and `add`. */
export const SCOPE_OPTIONS = {
  name: { type: "string" },
  admin: { type: "boolean" },
  "expires-in": { type: "string" },
  "expires-at": { type: "string" },
  models: { type: "string", multiple: true },
  endpoints: { type: "string", multiple: true },
  ips: { type: "string", multiple: true },
  rpm: { type: "string" },
  tpm: { type: "string" },
  ...BUDGET_OPTIONS,
  ...JSON_OPTION,
  ...HELP_OPTION,
} as const;

/** What `parseFlags` returns for the options `O`. */
export type ParsedFlags<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>
>;

/** Parses a command's arguments strictly against `options`; a bad one is a UsageError. */
export function parseFlags<O extends ParseArgsOptionsConfig>(
  command: CommandName,
  args: readonly string[],
  options: O,
): ParsedFlags<O> {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), command);
  }
}

/** Refuses positional arguments, without echoing them. */
export function noArguments(command: CommandName, positionals: readonly string[]): void {
  if (positionals.length === 0) return;
  // The argument is not echoed: a key pasted on the command line must not be printed again.
  const hint = command === "add" ? ": pipe the key on stdin instead" : "";
  throw new UsageError(`keys ${command} takes no arguments${hint}`, command);
}

/** The one key id among the positional arguments. */
export function oneId(command: CommandName, positionals: readonly string[]): string {
  const [id, ...extra] = positionals;
  if (id === undefined) throw new UsageError(`keys ${command} needs a key id`, command);
  if (extra.length > 0) {
    throw new UsageError(`keys ${command} takes one key id, got ${positionals.length}`, command);
  }
  if (!KeyRecordSchema.shape.id.safeParse(id).success) {
    throw new UsageError(`${shown(id)} is not a key id such as key_7Hq2xM9aLp`, command);
  }
  return id;
}

/** Runs a shared settings rule, its KeySettingsError a UsageError of `command`. */
function asUsage<T>(command: CommandName, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof KeySettingsError) throw new UsageError(error.message, command);
    throw error;
  }
}

/** A duration flag in milliseconds; 0 only when `allowZero`. */
export function parseDurationFlag(
  flag: string,
  value: string,
  command: CommandName,
  allowZero = false,
): number {
  return asUsage(command, () => checkDuration(value, flag, allowZero));
}

/** `base + duration`, or a UsageError naming `flag` when that is past the year 9999. */
export function laterTime(
  flag: string,
  base: number,
  duration: number,
  command: CommandName,
): number {
  return asUsage(command, () => checkLaterTime(flag, base, duration));
}

/** Splits repeated, comma-separated flag values (the shared rules trim and check them). */
function splitList(values: readonly string[] | undefined): string[] | undefined {
  return values?.flatMap((v) => v.split(","));
}

function parseLimit(flag: string, value: string | undefined, command: CommandName) {
  if (value === undefined) return null;
  const limit = /^[1-9]\d*$/.test(value) ? Number(value) : NaN;
  return asUsage(command, () => checkLimit(limit, flag, value));
}

/** `--budget-usd`: a number of US dollars such as 100 or 2.50, within a budget's bounds. */
export function parseBudgetUsd(value: string, command: CommandName): number {
  const usd = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  return asUsage(command, () => checkBudgetUsd(usd, "--budget-usd", value));
}

/** `--budget-period`: day, month or total. */
export function parseBudgetPeriod(value: string, command: CommandName): BudgetPeriod {
  return asUsage(command, () => checkBudgetPeriod(value, "--budget-period"));
}

/**
 * The budget `--budget-usd` and `--budget-period` set, or null when neither is given. The
 * period is `fallbackPeriod` when only the amount is given; a period alone is a UsageError.
 */
export function parseBudget(
  values: { "budget-usd"?: string | undefined; "budget-period"?: string | undefined },
  command: CommandName,
  fallbackPeriod: BudgetPeriod = "month",
): Budget | null {
  const usd = values["budget-usd"];
  const period = values["budget-period"];
  if (usd === undefined) {
    if (period === undefined) return null;
    throw new UsageError("--budget-period needs --budget-usd", command);
  }
  return {
    usd: parseBudgetUsd(usd, command),
    period: period === undefined ? fallbackPeriod : parseBudgetPeriod(period, command),
  };
}

export type { NewKeySettings };

/** Checks the flags of `create` and `add` and turns them into the settings of a new key. */
export function parseNewKeySettings(
  values: {
    name?: string | undefined;
    admin?: boolean | undefined;
    "expires-in"?: string | undefined;
    "expires-at"?: string | undefined;
    models?: string[] | undefined;
    endpoints?: string[] | undefined;
    ips?: string[] | undefined;
    rpm?: string | undefined;
    tpm?: string | undefined;
    "budget-usd"?: string | undefined;
    "budget-period"?: string | undefined;
  },
  now: number,
  command: CommandName,
): NewKeySettings {
  const role = values.admin === true ? "admin" : "client";
  const labels = FLAG_LABELS;
  return {
    name: asUsage(command, () => checkName(values.name, labels.name)),
    role,
    expires_at: asUsage(
      command,
      () =>
        checkExpiry(
          { expiresIn: values["expires-in"], expiresAt: values["expires-at"] },
          now,
          labels,
        ),
    ),
    models: asUsage(command, () => checkModels(splitList(values.models), labels)),
    endpoints: asUsage(command, () =>
      checkEndpointsForRole(
        checkScopeList("endpoints", splitList(values.endpoints), labels),
        role,
        labels,
      )),
    ips: asUsage(command, () => checkScopeList("ips", splitList(values.ips), labels)),
    rpm: parseLimit("--rpm", values.rpm, command),
    tpm: parseLimit("--tpm", values.tpm, command),
    budget: parseBudget(values, command),
  };
}
