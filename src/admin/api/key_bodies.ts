/**
 * The bodies of the admin API's key operations: their shape checked with zod (a bad one is a 400
 * naming the field), then their values by the rules the CLI shares (src/keys/settings.ts), named
 * as the API spells them.
 */
import { z } from "zod";
import { errors } from "../../errors.ts";
import type { KeyPatch } from "../../keys/operations.ts";
import type { NewKeySettings } from "../../keys/new_record.ts";
import {
  checkBudgetPeriod,
  checkBudgetUsd,
  checkEndpointsForRole,
  checkExpiresAt,
  checkExpiry,
  checkLimit,
  checkModels,
  checkName,
  checkScopeList,
  KeySettingsError,
  type SettingLabels,
} from "../../keys/settings.ts";
import { KEY_ROLES } from "../../keys/key_file.ts";
import { parseRequestBody } from "../../openai/schema.ts";
import type { BudgetPeriod } from "../../spend/period.ts";

/** The API's field names, for the shared rules' messages. */
export const FIELD_LABELS: SettingLabels = {
  name: "name",
  expiresIn: "expires_in",
  expiresAt: "expires_at",
  models: "models",
  endpoints: "endpoints",
  ips: "ips",
  rpm: "rpm",
  tpm: "tpm",
  budgetUsd: "budget.usd",
  budgetPeriod: "budget.period",
  grace: "grace",
  admin: 'create it with "role": "admin"',
  allowAll: "null allows all",
};

const list = z.array(z.string()).nullable().optional();
const limit = z.number().nullable().optional();
const budget = z.strictObject({ usd: z.number(), period: z.string().optional() }).nullable()
  .optional();

const CreateKeySchema = z.strictObject({
  name: z.string(),
  role: z.enum(KEY_ROLES).optional(),
  expires_in: z.string().optional(),
  expires_at: z.string().nullable().optional(),
  models: list,
  endpoints: list,
  ips: list,
  rpm: limit,
  tpm: limit,
  budget,
});

const PatchKeySchema = z.strictObject({
  name: z.string().optional(),
  expires_at: z.string().nullable().optional(),
  models: list,
  endpoints: list,
  ips: list,
  rpm: limit,
  tpm: limit,
  budget,
});

const RotateKeySchema = z.strictObject({ grace: z.string().optional() });

/** Validates `body` with `schema`, or throws the 400 naming its first bad (or unknown) field. */
function shaped<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    const names = issue.keys.map((key) => JSON.stringify(key.slice(0, 40)));
    const prefix = issue.path.length === 0 ? "" : `${issue.path.join(".")}.`;
    throw errors.invalidRequest(
      `Unknown field${names.length > 1 ? "s" : ""} ${names.join(", ")}`,
      `${prefix}${issue.keys[0]?.slice(0, 40)}`,
    );
  }
  const parsed = parseRequestBody(schema, body);
  if (!parsed.ok) throw parsed.error;
  return parsed.request;
}

/** Runs a shared rule; its KeySettingsError becomes a 400 naming the field. */
export function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof KeySettingsError) {
      throw errors.invalidRequest(error.message, error.setting);
    }
    throw error;
  }
}

function limitOf(value: number | null | undefined, label: string): number | null | undefined {
  return value === undefined || value === null ? value : checkLimit(value, label);
}

/** A budget as given: an amount, and a period unless the current one's is kept. */
export type BudgetChange = { usd: number; period: BudgetPeriod | undefined } | null | undefined;

function budgetOf(value: { usd: number; period?: string | undefined } | null | undefined) {
  if (value === undefined || value === null) return value;
  const labels = FIELD_LABELS;
  return {
    usd: checkBudgetUsd(value.usd, labels.budgetUsd),
    period: value.period === undefined
      ? undefined
      : checkBudgetPeriod(value.period, labels.budgetPeriod),
  };
}

/** The settings of `POST /admin/api/keys`, checked as `choreoai keys create` checks its flags. */
export function parseCreateKey(body: unknown, now: number): NewKeySettings {
  const input = shaped(CreateKeySchema, body);
  const labels = FIELD_LABELS;
  const role = input.role ?? "client";
  return checked(() => {
    const name = checkName(input.name, labels.name);
    const expiresAt = checkExpiry(
      { expiresIn: input.expires_in, expiresAt: input.expires_at },
      now,
      labels,
    );
    const models = checkModels(input.models, labels);
    const endpoints = checkEndpointsForRole(
      checkScopeList("endpoints", input.endpoints, labels),
      role,
      labels,
    );
    const ips = checkScopeList("ips", input.ips, labels);
    const rpm = limitOf(input.rpm, labels.rpm) ?? null;
    const tpm = limitOf(input.tpm, labels.tpm) ?? null;
    const budget = budgetOf(input.budget);
    return {
      name,
      role,
      expires_at: expiresAt,
      models,
      endpoints,
      ips,
      rpm,
      tpm,
      budget: budget === null || budget === undefined
        ? null
        : { usd: budget.usd, period: budget.period ?? "month" },
    };
  });
}

/**
 * The change of `PATCH /admin/api/keys/{id}`: what it sets (the budget's period, when left out,
 * is resolved against the key) and the budget as given.
 */
export function parsePatchKey(
  body: unknown,
  now: number,
): { patch: Omit<KeyPatch, "budget">; budget: BudgetChange } {
  const input = shaped(PatchKeySchema, body);
  const labels = FIELD_LABELS;
  return checked(() => ({
    patch: {
      ...(input.name === undefined ? {} : { name: checkName(input.name, labels.name) }),
      ...(input.expires_at === undefined ? {} : {
        expires_at: input.expires_at === null
          ? null
          : checkExpiresAt(input.expires_at, now, labels.expiresAt),
      }),
      ...(input.models === undefined ? {} : { models: checkModels(input.models, labels) }),
      ...(input.endpoints === undefined
        ? {}
        : { endpoints: checkScopeList("endpoints", input.endpoints, labels) }),
      ...(input.ips === undefined ? {} : { ips: checkScopeList("ips", input.ips, labels) }),
      ...(input.rpm === undefined ? {} : { rpm: limitOf(input.rpm, labels.rpm) }),
      ...(input.tpm === undefined ? {} : { tpm: limitOf(input.tpm, labels.tpm) }),
    },
    budget: budgetOf(input.budget),
  }));
}

/** The grace period of `POST /admin/api/keys/{id}/rotate` (default `24h`; `0`: revoke now). */
export function parseRotateKey(body: unknown): string {
  return shaped(RotateKeySchema, body).grace ?? "24h";
}
