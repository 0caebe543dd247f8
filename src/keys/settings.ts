/**
 * The rules of a key's settings (name, expiry, scopes, limits, budget), written once for the CLI
 * (`choreoai keys create --name …`) and the admin API (`POST /admin/api/keys`). Each rule names
 * the setting as its caller spells it (`--name` or `name`), so messages read right in both.
 * Every bad value is a {@linkcode KeySettingsError}.
 */
import { z } from "zod";
import { parseDuration } from "../duration.ts";
import { ADMIN_ENDPOINTS, ENDPOINTS } from "../endpoints.ts";
import { BudgetSchema } from "../spend/budget.ts";
import { BUDGET_PERIODS, type BudgetPeriod } from "../spend/period.ts";
import { formatTime, MAX_TIME, shown, wholeSeconds } from "./format.ts";
import { KeyRecordSchema, type KeyRole } from "./key_file.ts";

/** A setting has a bad value; `setting` is its name as the caller spells it. */
export class KeySettingsError extends Error {
  readonly setting: string;
  constructor(message: string, setting: string) {
    super(message);
    this.name = "KeySettingsError";
    this.setting = setting;
  }
}

/** How the caller names each setting, and how it asks for what a message suggests. */
export interface SettingLabels {
  readonly name: string;
  readonly expiresIn: string;
  readonly expiresAt: string;
  readonly models: string;
  readonly endpoints: string;
  readonly ips: string;
  readonly rpm: string;
  readonly tpm: string;
  readonly budgetUsd: string;
  readonly budgetPeriod: string;
  readonly grace: string;
  /** How to ask for an admin key, after "only admin keys may call /x: ". */
  readonly admin: string;
  /** How to allow every value of a list, in "needs at least one value (…)". */
  readonly allowAll: string;
}

/** The CLI's flags. */
export const FLAG_LABELS: SettingLabels = {
  name: "--name",
  expiresIn: "--expires-in",
  expiresAt: "--expires-at",
  models: "--models",
  endpoints: "--endpoints",
  ips: "--ips",
  rpm: "--rpm",
  tpm: "--tpm",
  budgetUsd: "--budget-usd",
  budgetPeriod: "--budget-period",
  grace: "--grace",
  admin: "add --admin",
  allowAll: "leave it out to allow all",
};

/** A duration such as `30d` in milliseconds; 0 only when `allowZero`. */
export function checkDuration(value: string, label: string, allowZero = false): number {
  const ms = parseDuration(value);
  if (ms === undefined || (ms === 0 && !allowZero)) {
    throw new KeySettingsError(
      `${label} must be a duration such as 30d, 12h, 15m or 90s` +
        `${allowZero ? " (or 0)" : " (more than 0)"}, got ${shown(value)}`,
      label,
    );
  }
  return ms;
}

/** `base + duration`, or an error naming `label` when that is past the year 9999. */
export function laterTime(label: string, base: number, duration: number): number {
  const time = base + duration;
  if (time > MAX_TIME) throw new KeySettingsError(`${label} reaches past the year 9999`, label);
  return time;
}

const isoDateTime = KeyRecordSchema.shape.created_at;
const isoDate = z.iso.date();

/** An expiry time in the future (ISO 8601 time or date), as the key file stores it. */
export function checkExpiresAt(value: string, now: number, label: string): string {
  const valid = isoDateTime.safeParse(value).success || isoDate.safeParse(value).success;
  const time = valid ? Date.parse(value) : NaN;
  if (Number.isNaN(time) || time > MAX_TIME) {
    throw new KeySettingsError(
      `${label} must be an ISO 8601 time such as 2027-01-01T00:00:00Z, got ${shown(value)}`,
      label,
    );
  }
  if (time <= now) {
    throw new KeySettingsError(
      `${label} must be in the future, got ${shown(value)} (now is ${
        formatTime(wholeSeconds(now))
      })`,
      label,
    );
  }
  return formatTime(time);
}

/** A new key's expiry: a duration from now, a time, or null (never); not both. */
export function checkExpiry(
  given: { expiresIn?: string | undefined; expiresAt?: string | null | undefined },
  now: number,
  labels: SettingLabels,
): string | null {
  const { expiresIn, expiresAt } = given;
  if (expiresIn !== undefined && expiresAt !== undefined) {
    throw new KeySettingsError(
      `${labels.expiresIn} and ${labels.expiresAt} cannot be used together`,
      labels.expiresAt,
    );
  }
  if (expiresIn !== undefined) {
    const duration = checkDuration(expiresIn, labels.expiresIn);
    return formatTime(laterTime(labels.expiresIn, wholeSeconds(now), duration));
  }
  return expiresAt === undefined || expiresAt === null
    ? null
    : checkExpiresAt(expiresAt, now, labels.expiresAt);
}

/** A key's name: trimmed, not empty, no control characters, at most 200 characters. */
export function checkName(value: string | undefined, label: string): string {
  if (value === undefined) throw new KeySettingsError(`${label} is required`, label);
  const name = value.trim();
  if (name === "") throw new KeySettingsError(`${label} must not be empty`, label);
  if (/\p{Cc}/u.test(name)) {
    throw new KeySettingsError(`${label} must not contain control characters`, label);
  }
  if (!KeyRecordSchema.shape.name.safeParse(name).success) {
    throw new KeySettingsError(`${label} must be at most 200 characters long`, label);
  }
  return name;
}

/** A scope's items: trimmed, empties dropped, duplicates once; none given is null (all). */
function checkList(
  items: readonly string[] | null | undefined,
  label: string,
  allowAll: string,
): string[] | null {
  if (items === undefined || items === null) return null;
  const list = [...new Set(items.map((item) => item.trim()))].filter((item) => item !== "");
  if (list.length === 0) {
    throw new KeySettingsError(`${label} needs at least one value (${allowAll})`, label);
  }
  return list;
}

const MODEL_REGEXP = /^(?:[^\s*]+\*?|\*)$/u;

/** Model names or prefixes followed by `*`; null allows every model. */
export function checkModels(
  items: readonly string[] | null | undefined,
  labels: SettingLabels,
): string[] | null {
  const label = labels.models;
  const models = checkList(items, label, labels.allowAll);
  for (const model of models ?? []) {
    if (!MODEL_REGEXP.test(model) || /\p{Cc}/u.test(model)) {
      throw new KeySettingsError(
        `${label}: ${shown(model)} is not a model name such as gpt-4o, ` +
          "or a prefix followed by *, such as claude-*",
        label,
      );
    }
  }
  return models;
}

/** Endpoints or IP scopes, each checked with the key file's own schema; null allows all. */
export function checkScopeList(
  field: "endpoints" | "ips",
  items: readonly string[] | null | undefined,
  labels: SettingLabels,
): string[] | null {
  const label = labels[field];
  const list = checkList(items, label, labels.allowAll);
  for (const item of list ?? []) {
    const result = KeyRecordSchema.shape[field].safeParse([item]);
    if (!result.success) {
      const message = result.error.issues[0]?.message ?? "is not valid";
      throw new KeySettingsError(`${label}: ${shown(item)} ${message}`, label);
    }
    if (field === "endpoints" && !ENDPOINTS.includes(item)) {
      // A typo here would silently lock the key out of the endpoint it was made for.
      throw new KeySettingsError(
        `${label}: ${shown(item)} is not an endpoint of the gateway (known: ${
          ENDPOINTS.join(", ")
        })`,
        label,
      );
    }
  }
  return list;
}

/** Refuses an admin endpoint (`/metrics`, `/admin`) for a client key, which could never call it. */
export function checkEndpointsForRole(
  endpoints: string[] | null,
  role: KeyRole,
  labels: SettingLabels,
): string[] | null {
  const adminOnly = role === "client"
    ? endpoints?.find((endpoint) => ADMIN_ENDPOINTS.includes(endpoint))
    : undefined;
  if (adminOnly !== undefined) {
    throw new KeySettingsError(
      `${labels.endpoints}: only admin keys may call ${adminOnly}: ${labels.admin}`,
      labels.endpoints,
    );
  }
  return endpoints;
}

/** A rate limit: a positive safe integer (`raw` is the value as given, for the message). */
export function checkLimit(value: number, label: string, raw: string = String(value)): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new KeySettingsError(`${label} must be a positive integer, got ${shown(raw)}`, label);
  }
  return value;
}

/** A budget's amount in US dollars, within a budget's bounds (`raw` as given, for the message). */
export function checkBudgetUsd(usd: number, label: string, raw: string = String(usd)): number {
  const checked = BudgetSchema.shape.usd.safeParse(usd);
  if (!checked.success) {
    const why = Number.isNaN(usd)
      ? "must be a number of US dollars such as 100 or 2.50"
      : checked.error.issues[0]?.message ?? "must be a valid amount";
    throw new KeySettingsError(`${label} ${why}, got ${shown(raw)}`, label);
  }
  return checked.data;
}

/** A budget's period: day, month or total. */
export function checkBudgetPeriod(value: string, label: string): BudgetPeriod {
  const period = BUDGET_PERIODS.find((known) => known === value);
  if (period === undefined) {
    throw new KeySettingsError(
      `${label} must be ${BUDGET_PERIODS.join(", ")}, got ${shown(value)}`,
      label,
    );
  }
  return period;
}
