/**
 * Parsing and validation of the flags of `choreoai keys …`: names, expiry times and durations,
 * the role, model, endpoint and IP scopes, rate limits and budgets. Every bad value is a
 * UsageError.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { z } from "zod";
import { ADMIN_ENDPOINTS, ENDPOINTS } from "../../endpoints.ts";
import { KeyRecordSchema, type KeyRole } from "../../keys/key_file.ts";
import { type Budget, BudgetSchema } from "../../spend/budget.ts";
import { BUDGET_PERIODS, type BudgetPeriod } from "../../spend/period.ts";
import { parseDuration } from "../duration.ts";
import {
  type CommandName,
  formatTime,
  MAX_TIME,
  shown,
  UsageError,
  wholeSeconds,
} from "./_shared.ts";

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

/** A duration flag in milliseconds; 0 only when `allowZero`. */
export function parseDurationFlag(
  flag: string,
  value: string,
  command: CommandName,
  allowZero = false,
): number {
  const ms = parseDuration(value);
  if (ms === undefined || (ms === 0 && !allowZero)) {
    throw new UsageError(
      `${flag} must be a duration such as 30d, 12h, 15m or 90s` +
        `${allowZero ? " (or 0)" : " (more than 0)"}, got ${shown(value)}`,
      command,
    );
  }
  return ms;
}

/** `base + duration`, or a UsageError naming `flag` when that is past the year 9999. */
export function laterTime(
  flag: string,
  base: number,
  duration: number,
  command: CommandName,
): number {
  const time = base + duration;
  if (time > MAX_TIME) throw new UsageError(`${flag} reaches past the year 9999`, command);
  return time;
}

const isoDateTime = KeyRecordSchema.shape.created_at;
const isoDate = z.iso.date();

function parseExpiry(
  values: { "expires-in"?: string | undefined; "expires-at"?: string | undefined },
  now: number,
  command: CommandName,
): string | null {
  const expiresIn = values["expires-in"];
  const expiresAt = values["expires-at"];
  if (expiresIn !== undefined && expiresAt !== undefined) {
    throw new UsageError("--expires-in and --expires-at cannot be used together", command);
  }
  if (expiresIn !== undefined) {
    const duration = parseDurationFlag("--expires-in", expiresIn, command);
    return formatTime(laterTime("--expires-in", wholeSeconds(now), duration, command));
  }
  if (expiresAt === undefined) return null;
  const valid = isoDateTime.safeParse(expiresAt).success || isoDate.safeParse(expiresAt).success;
  const time = valid ? Date.parse(expiresAt) : NaN;
  if (Number.isNaN(time) || time > MAX_TIME) {
    throw new UsageError(
      `--expires-at must be an ISO 8601 time such as 2027-01-01T00:00:00Z, got ${shown(expiresAt)}`,
      command,
    );
  }
  if (time <= now) {
    throw new UsageError(
      `--expires-at must be in the future, got ${shown(expiresAt)} (now is ${
        formatTime(wholeSeconds(now))
      })`,
      command,
    );
  }
  return formatTime(time);
}

function parseName(value: string | undefined, command: CommandName): string {
  if (value === undefined) throw new UsageError("--name is required", command);
  const name = value.trim();
  if (name === "") throw new UsageError("--name must not be empty", command);
  if (/\p{Cc}/u.test(name)) {
    throw new UsageError("--name must not contain control characters", command);
  }
  if (!KeyRecordSchema.shape.name.safeParse(name).success) {
    throw new UsageError("--name must be at most 200 characters long", command);
  }
  return name;
}

/** Splits repeated, comma-separated flag values: trimmed, empties dropped, duplicates once. */
function parseList(
  flag: string,
  values: readonly string[] | undefined,
  command: CommandName,
): string[] | null {
  if (values === undefined) return null;
  const items = [...new Set(values.flatMap((v) => v.split(",")).map((v) => v.trim()))]
    .filter((v) => v !== "");
  if (items.length === 0) {
    throw new UsageError(`${flag} needs at least one value (leave it out to allow all)`, command);
  }
  return items;
}

const MODEL_REGEXP = /^(?:[^\s*]+\*?|\*)$/u;

function parseModels(values: readonly string[] | undefined, command: CommandName) {
  const models = parseList("--models", values, command);
  for (const model of models ?? []) {
    if (!MODEL_REGEXP.test(model) || /\p{Cc}/u.test(model)) {
      throw new UsageError(
        `--models: ${shown(model)} is not a model name such as gpt-4o, ` +
          "or a prefix followed by *, such as claude-*",
        command,
      );
    }
  }
  return models;
}

/** Checks each item with the key file's own schema for the field, naming the flag. */
function parseScopeList(
  field: "endpoints" | "ips",
  values: readonly string[] | undefined,
  command: CommandName,
): string[] | null {
  const flag = `--${field}`;
  const items = parseList(flag, values, command);
  for (const item of items ?? []) {
    const result = KeyRecordSchema.shape[field].safeParse([item]);
    if (!result.success) {
      const message = result.error.issues[0]?.message ?? "is not valid";
      throw new UsageError(`${flag}: ${shown(item)} ${message}`, command);
    }
    if (field === "endpoints" && !ENDPOINTS.includes(item)) {
      // A typo here would silently lock the key out of the endpoint it was made for.
      throw new UsageError(
        `${flag}: ${shown(item)} is not an endpoint of the gateway (known: ${
          ENDPOINTS.join(", ")
        })`,
        command,
      );
    }
  }
  return items;
}

/** Refuses an admin endpoint (`/metrics`, `/admin`) for a client key, which could never call it. */
function checkEndpointsForRole(
  endpoints: string[] | null,
  role: KeyRole,
  command: CommandName,
): string[] | null {
  const adminOnly = role === "client"
    ? endpoints?.find((endpoint) => ADMIN_ENDPOINTS.includes(endpoint))
    : undefined;
  if (adminOnly !== undefined) {
    throw new UsageError(
      `--endpoints: only admin keys may call ${adminOnly}: add --admin`,
      command,
    );
  }
  return endpoints;
}

function parseLimit(flag: string, value: string | undefined, command: CommandName) {
  if (value === undefined) return null;
  const limit = /^[1-9]\d*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(limit)) {
    throw new UsageError(`${flag} must be a positive integer, got ${shown(value)}`, command);
  }
  return limit;
}

/** `--budget-usd`: a number of US dollars such as 100 or 2.50, within a budget's bounds. */
function parseBudgetUsd(value: string, command: CommandName): number {
  const usd = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  const checked = BudgetSchema.shape.usd.safeParse(usd);
  if (!checked.success) {
    const why = Number.isNaN(usd)
      ? "must be a number of US dollars such as 100 or 2.50"
      : checked.error.issues[0]?.message ?? "must be a valid amount";
    throw new UsageError(`--budget-usd ${why}, got ${shown(value)}`, command);
  }
  return checked.data;
}

/** `--budget-period`: day, month or total. */
export function parseBudgetPeriod(value: string, command: CommandName): BudgetPeriod {
  const period = BUDGET_PERIODS.find((known) => known === value);
  if (period === undefined) {
    throw new UsageError(
      `--budget-period must be ${BUDGET_PERIODS.join(", ")}, got ${shown(value)}`,
      command,
    );
  }
  return period;
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

/** What `create` and `add` take from their flags. */
export interface NewKeySettings {
  readonly name: string;
  readonly role: KeyRole;
  readonly expires_at: string | null;
  readonly models: string[] | null;
  readonly endpoints: string[] | null;
  readonly ips: string[] | null;
  readonly rpm: number | null;
  readonly tpm: number | null;
  /** null: none of its own (the gateway's default applies, if any). */
  readonly budget: Budget | null;
}

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
  return {
    name: parseName(values.name, command),
    role,
    expires_at: parseExpiry(values, now, command),
    models: parseModels(values.models, command),
    endpoints: checkEndpointsForRole(
      parseScopeList("endpoints", values.endpoints, command),
      role,
      command,
    ),
    ips: parseScopeList("ips", values.ips, command),
    rpm: parseLimit("--rpm", values.rpm, command),
    tpm: parseLimit("--tpm", values.tpm, command),
    budget: parseBudget(values, command),
  };
}
