/**
 * OpenAI `reasoning_effort` → Gemini `generationConfig.thinkingConfig`, chosen by the upstream model
 * name (the table is in `request.ts`). Google's "Gemini thinking" guide: Gemini 3 and later models
 * take `thinkingLevel` (`minimal`, `low`, `medium`, `high`; Pro models take no `minimal`) and
 * cannot turn thinking off; Gemini 2.5 models take `thinkingBudget` in tokens (Flash 0 to 24,576,
 * Flash-Lite 0 or 512 to 24,576, Pro 128 to 32,768 and never 0: "Budget 0 is invalid. This model
 * only works in thinking mode."), and answer a `thinkingLevel` with 400 "Thinking level is not
 * supported for this model.". Thought summaries come back only with `includeThoughts: true`.
 */
import { errors, type GatewayError } from "../../errors.ts";

/** `generationConfig.thinkingConfig` as the gateway fills it (one of level or budget). */
export interface GeminiThinkingConfig {
  thinkingLevel?: "minimal" | "low" | "medium" | "high";
  thinkingBudget?: number;
  includeThoughts?: true;
}

/** The `reasoning_effort` values OpenAI defines (its npm client 7.57 lists them). */
export const REASONING_EFFORTS = [
  "none",
  "minimal",
  "low",
  "medium",
  "high",
  "xhigh",
  "max",
] as const;

/** One `reasoning_effort` value. */
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** How a model family is told how much to think. */
type Family =
  | { kind: "level"; pro: boolean }
  | { kind: "budget"; tier: "flash" | "flash-lite" | "pro" }
  | { kind: "none" };

/** Thinking budgets of Gemini 2.5 per effort (`none` is 0, or Pro's least, 128). */
const BUDGETS: Record<Exclude<ReasoningEffort, "none" | "xhigh" | "max">, number> = {
  minimal: 512,
  low: 4_096,
  medium: 16_384,
  high: 24_576,
};

/** The most a Gemini 2.5 Pro thinks, which its `high` gets. */
const PRO_MAX_BUDGET = 32_768;

/** The least a Gemini 2.5 Pro thinks (it cannot turn thinking off). */
const PRO_MIN_BUDGET = 128;

/** Which thinking setting the upstream model takes, by its name. */
function familyOf(model: string): Family {
  const name = model.replace(/^models\//, "").toLowerCase();
  if (name.startsWith("gemini-2.5-")) {
    if (name.startsWith("gemini-2.5-pro")) return { kind: "budget", tier: "pro" };
    return { kind: "budget", tier: name.includes("flash-lite") ? "flash-lite" : "flash" };
  }
  if (!name.startsWith("gemini-") || /^gemini-(1\.|2\.0|pro$|pro-vision)/.test(name)) {
    return { kind: "none" };
  }
  return { kind: "level", pro: /-pro(-|$)/.test(name) };
}

/** The result of fitting `reasoning_effort` to a model: the config, and whether it was changed. */
export interface FittedThinking {
  /** Undefined when the model takes no thinking setting. */
  readonly config: GeminiThinkingConfig | undefined;
  /** The setting differs from what was asked (named in `x-choreoai-adjusted`). */
  readonly adjusted: boolean;
}

/**
 * The thinking config for `effort` on `model`, or a 400 naming `reasoning_effort` for a value
 * OpenAI does not define. `includeThoughts` is set for every effort but `none`: a client that asks
 * for reasoning gets the thought summaries (as `reasoning_content`).
 *
 * @example Usage
 * ```ts
 * import { toGeminiThinking } from "./thinking.ts";
 * toGeminiThinking("low", "gemini-2.5-flash");
 * // { config: { thinkingBudget: 4096, includeThoughts: true }, adjusted: false }
 * toGeminiThinking("minimal", "gemini-3.1-pro-preview");
 * // { config: { thinkingLevel: "low", includeThoughts: true }, adjusted: true }
 * ```
 */
export function toGeminiThinking(effort: unknown, model: string): FittedThinking | GatewayError {
  if (typeof effort !== "string" || !(REASONING_EFFORTS as readonly string[]).includes(effort)) {
    return errors.invalidRequest(
      `Invalid value for 'reasoning_effort': ${
        JSON.stringify(effort)?.slice(0, 100)
      } is not one of ${REASONING_EFFORTS.join(", ")}`,
      "reasoning_effort",
    );
  }
  const asked = effort as ReasoningEffort;
  const family = familyOf(model);
  if (family.kind === "none") return { config: undefined, adjusted: true };
  const thoughts: { includeThoughts?: true } = asked === "none" ? {} : { includeThoughts: true };
  // Gemini has nothing above its `high` (2.5 Pro: its largest budget).
  const beyond = asked === "xhigh" || asked === "max";
  let adjusted = beyond;
  const effective = beyond ? "high" : asked;
  if (family.kind === "level") {
    let level: NonNullable<GeminiThinkingConfig["thinkingLevel"]>;
    if (effective === "none" || effective === "minimal") {
      // Thinking cannot be turned off; Pro models have no `minimal` level.
      adjusted ||= effective === "none" || family.pro;
      level = family.pro ? "low" : "minimal";
    } else {
      level = effective;
    }
    return { config: { thinkingLevel: level, ...thoughts }, adjusted };
  }
  let budget: number;
  if (effective === "none") {
    adjusted ||= family.tier === "pro";
    budget = family.tier === "pro" ? PRO_MIN_BUDGET : 0;
  } else if (effective === "high" && family.tier === "pro") {
    budget = PRO_MAX_BUDGET;
  } else {
    budget = BUDGETS[effective];
  }
  return { config: { thinkingBudget: budget, ...thoughts }, adjusted };
}
