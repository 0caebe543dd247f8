/**
 * `choreoai keys set-budget`: give a key a budget of its own (`--budget-usd`, `--budget-period`),
 * change it, or remove it (`--none`: the gateway's default then applies, if any).
 */
import type { KeyRecord } from "../../keys/key_file.ts";
import { setKeyBudget } from "../../keys/operations.ts";
import { FLAG_LABELS } from "../../keys/settings.ts";
import { type Budget, formatUsd } from "../../spend/budget.ts";
import { describePeriod } from "../../spend/period.ts";
import { toMicroUsd } from "../../spend/pricing.ts";
import { type CliIo, EXIT } from "../io.ts";
import { json, printable, UsageError } from "./_shared.ts";
import {
  BUDGET_OPTIONS,
  HELP_OPTION,
  JSON_OPTION,
  oneId,
  parseBudgetPeriod,
  parseBudgetUsd,
  parseFlags,
} from "./flags.ts";
import { HELP } from "./help.ts";
import { keyListOf } from "./key_list.ts";

/** A budget as the messages on stderr say it: `$100.00 per month (UTC)`. */
export function describeBudget(budget: Budget): string {
  return `$${formatUsd(toMicroUsd(budget.usd))} ${describePeriod(budget.period)}`;
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
  // A bad amount or period is a usage error before the key list is touched.
  const change = values.none === true ? null : {
    ...(values["budget-usd"] === undefined
      ? {}
      : { usd: parseBudgetUsd(values["budget-usd"], "set-budget") }),
    ...(values["budget-period"] === undefined
      ? {}
      : { period: parseBudgetPeriod(values["budget-period"], "set-budget") }),
  };
  const list = keyListOf(io);
  let changed: KeyRecord | undefined;
  await list.update((file) => {
    const next = setKeyBudget(file, id, change, {
      now: io.now(),
      randomBytes: io.randomBytes,
      where: list.where,
      labels: FLAG_LABELS,
    });
    changed = next.record;
    return next.file;
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
