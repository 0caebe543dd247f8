/**
 * `choreoai keys set-budget`: give a key a budget of its own (`--budget-usd`, `--budget-period`),
 * change it, or remove it (`--none`: the gateway's default then applies, if any).
 */
import type { KeyRecord } from "../../keys/key_file.ts";
import { type Budget, formatUsd } from "../../spend/budget.ts";
import { describePeriod } from "../../spend/period.ts";
import { toMicroUsd } from "../../spend/pricing.ts";
import { type CliIo, EXIT } from "../io.ts";
import { CommandError, findKey, json, printable, UsageError } from "./_shared.ts";
import {
  BUDGET_OPTIONS,
  HELP_OPTION,
  JSON_OPTION,
  oneId,
  parseBudget,
  parseBudgetPeriod,
  parseFlags,
} from "./flags.ts";
import { HELP } from "./help.ts";
import { keyListOf } from "./key_list.ts";

/** A budget as the messages on stderr say it: `$100.00 per month (UTC)`. */
export function describeBudget(budget: Budget): string {
  return `$${formatUsd(toMicroUsd(budget.usd))} ${describePeriod(budget.period)}`;
}

/** The budget the flags give `key`: a period alone changes the period of its own budget. */
function nextBudget(
  key: KeyRecord,
  values: { "budget-usd"?: string | undefined; "budget-period"?: string | undefined },
): Budget {
  const period = values["budget-period"];
  if (values["budget-usd"] === undefined && period !== undefined) {
    if (key.budget === undefined) {
      throw new CommandError(
        `Key ${key.id} has no budget of its own to change the period of: give --budget-usd too`,
      );
    }
    return { usd: key.budget.usd, period: parseBudgetPeriod(period, "set-budget") };
  }
  const budget = parseBudget(values, "set-budget", key.budget?.period ?? "month");
  if (budget === null) throw new Error("parseBudget gave no budget for --budget-usd");
  return budget;
}

/** Runs `choreoai keys set-budget`: returns the exit code, or throws a UsageError or CommandError. */
export async function setBudgetCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("set-budget", args, {
    ...BUDGET_OPTIONS,
    none: { type: "boolean" },
    ...JSON_OPTION,
    ...HELP_OPTION,
  });
  if (values.help === true) {
    io.stdout(`${HELP["set-budget"]}\n`);
    return EXIT.ok;
  }
  const id = oneId("set-budget", positionals);
  const given = values["budget-usd"] !== undefined || values["budget-period"] !== undefined;
  if (values.none === true && given) {
    throw new UsageError(
      "--none cannot be used with --budget-usd or --budget-period",
      "set-budget",
    );
  }
  if (values.none !== true && !given) {
    throw new UsageError(
      "give --budget-usd N (and --budget-period day|month|total), or --none",
      "set-budget",
    );
  }
  // A bad amount or period is a usage error before the file is touched.
  if (values["budget-usd"] !== undefined) parseBudget(values, "set-budget");
  else if (values["budget-period"] !== undefined) {
    parseBudgetPeriod(values["budget-period"], "set-budget");
  }
  const list = keyListOf(io);
  let changed: KeyRecord | undefined;
  await list.update((file) => {
    const key = findKey(file, id, list.where);
    const { budget: _old, ...rest } = key;
    changed = values.none === true ? rest : { ...rest, budget: nextBudget(key, values) };
    const next = changed;
    return { version: 1, keys: file.keys.map((k) => k.id === id ? next : k) };
  });
  if (changed === undefined) throw new Error("The key list was not updated");
  const label = `${changed.id} "${printable(changed.name)}"`;
  io.stderr(
    changed.budget === undefined
      ? `Removed the budget of key ${label}: the gateway's default budget ` +
        "(CHOREOAI_DEFAULT_BUDGET_USD) applies to it, if one is set.\n"
      : `Set the budget of key ${label} to ${describeBudget(changed.budget)}. A running ` +
        `gateway applies it ${list.inForce}.\n`,
  );
  if (values.json === true) io.stdout(json({ id: changed.id, budget: changed.budget ?? null }));
  return EXIT.ok;
}
