/**
 * Zod schemas of an OpenAI Responses create request (`POST /v1/responses`) as clients send it.
 *
 * The schemas are loose: a request that goes to OpenAI or Azure OpenAI passes through natively, so
 * fields, input item types, content part types and tool types the gateway does not know are kept
 * (a new OpenAI feature works through ChoreoAI the day it ships). What the gateway does know is
 * checked, so the translation for other providers can rely on it: a known item type with a bad
 * field is a 400 naming that field (`input[2].call_id`).
 */
import { z } from "zod";
import { type Parsed, parseRequestBody } from "../../openai/schema.ts";

/** Reports the issues of `schema` on `value` at their own paths. */
function check(schema: z.ZodType | undefined, value: unknown, ctx: z.RefinementCtx): void {
  const result = schema?.safeParse(value);
  if (result === undefined || result.success) return;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
  }
}

/**
 * An object with a string `type`: a known type must match its schema, an unknown type is accepted
 * as it is. The value is kept whole.
 */
function byType(schemas: Readonly<Record<string, z.ZodType>>) {
  return z.looseObject({ type: z.string({ error: "is required and must be a string" }) })
    .superRefine((value, ctx) => {
      check(Object.hasOwn(schemas, value.type) ? schemas[value.type] : undefined, value, ctx);
    });
}

const text = z.string({ error: "is required and must be a string" });
const nullish = <T extends z.ZodType>(schema: T) => schema.nullable().optional();
const nullishString = nullish(z.string({ error: "must be a string" }));
const nullishBoolean = nullish(z.boolean({ error: "must be a boolean" }));

const InputTextSchema = z.looseObject({ type: z.literal("input_text"), text });
const InputImageSchema = z.looseObject({
  type: z.literal("input_image"),
  image_url: nullishString,
  file_id: nullishString,
  detail: nullishString,
}).refine((part) => typeof part.image_url === "string" || typeof part.file_id === "string", {
  message: "needs image_url or file_id",
  path: ["image_url"],
});
const InputFileSchema = z.looseObject({
  type: z.literal("input_file"),
  file_data: z.string({ error: "must be a string" }).optional(),
  file_id: nullishString,
  file_url: z.string({ error: "must be a string" }).optional(),
  filename: z.string({ error: "must be a string" }).optional(),
});
const OutputTextSchema = z.looseObject({
  type: z.literal("output_text"),
  text,
  annotations: z.array(z.unknown()).optional(),
});
const RefusalSchema = z.looseObject({ type: z.literal("refusal"), refusal: text });

/** A content part of a message or tool output; known types checked, others kept. */
const ContentPartSchema = byType({
  input_text: InputTextSchema,
  input_image: InputImageSchema,
  input_file: InputFileSchema,
  output_text: OutputTextSchema,
  refusal: RefusalSchema,
});

const ROLES = ["user", "assistant", "system", "developer"] as const;

const MessageItemSchema = z.looseObject({
  type: z.literal("message").nullable().optional(),
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` }),
  content: z.union([z.string(), z.array(ContentPartSchema)], {
    error: "is required and must be a string or an array of content parts",
  }),
  id: nullishString,
});
const FunctionCallItemSchema = z.looseObject({
  type: z.literal("function_call"),
  call_id: text,
  name: text,
  arguments: text,
  namespace: nullishString,
  id: nullishString,
});
const FunctionCallOutputItemSchema = z.looseObject({
  type: z.literal("function_call_output"),
  call_id: nullishString,
  output: z.union([z.string(), z.array(ContentPartSchema)], {
    error: "is required and must be a string or an array of content parts",
  }),
  id: nullishString,
});
const ReasoningItemSchema = z.looseObject({
  type: z.literal("reasoning"),
  id: nullishString,
  summary: z.array(z.looseObject({ type: z.string(), text: z.string() }), {
    error: "must be an array of summary parts",
  }).optional(),
  encrypted_content: nullishString,
});
const ItemReferenceSchema = z.looseObject({
  type: z.literal("item_reference").nullable().optional(),
  id: text,
});

const ITEM_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  message: MessageItemSchema,
  function_call: FunctionCallItemSchema,
  function_call_output: FunctionCallOutputItemSchema,
  reasoning: ReasoningItemSchema,
  item_reference: ItemReferenceSchema,
};

/**
 * The kind of an input item: its `type`, or for an item without one (both may omit it) a
 * `message` when it has a `role`, else an `item_reference`.
 */
export function itemType(item: { readonly [key: string]: unknown }): string {
  if (typeof item.type === "string") return item.type;
  return item.role === undefined ? "item_reference" : "message";
}

/** An input item; known types checked, others (OpenAI's built-in tool calls, …) kept. */
const InputItemSchema = z.looseObject({ type: nullishString }, {
  error: "must be an input item object",
}).superRefine((item, ctx) => {
  const type = itemType(item);
  check(Object.hasOwn(ITEM_SCHEMAS, type) ? ITEM_SCHEMAS[type] : undefined, item, ctx);
});

const FunctionToolSchema = z.looseObject({
  type: z.literal("function"),
  name: z.string({ error: "is required and must be a string" }).min(1, "must not be empty"),
  description: nullishString,
  parameters: nullish(z.looseObject({}, { error: "must be a JSON Schema object" })),
  strict: nullishBoolean,
});

/** A group of tools (`tools[i].tools`): its `function` tools checked, others kept. */
const NamespaceToolSchema = z.looseObject({
  type: z.literal("namespace"),
  name: z.string({ error: "is required and must be a string" }).min(1, "must not be empty"),
  description: nullishString,
  tools: z.array(byType({ function: FunctionToolSchema }), {
    error: "is required and must be an array of tools",
  }),
});

/**
 * A tool: `function` and `namespace` tools checked; OpenAI's built-in tools (`web_search`,
 * `mcp`, …) kept.
 */
const ToolSchema = byType({ function: FunctionToolSchema, namespace: NamespaceToolSchema });

const ToolChoiceSchema = z.union([
  z.enum(["none", "auto", "required"]),
  byType({
    function: z.looseObject({ type: z.literal("function"), name: text }),
    allowed_tools: z.looseObject({
      type: z.literal("allowed_tools"),
      mode: z.enum(["auto", "required"], { error: "must be auto or required" }),
      tools: z.array(z.looseObject({ type: text }), { error: "must be an array of tools" }),
    }),
  }),
], { error: "must be none, auto, required or a tool choice object" });

const FormatSchema = byType({
  text: z.looseObject({ type: z.literal("text") }),
  json_object: z.looseObject({ type: z.literal("json_object") }),
  json_schema: z.looseObject({
    type: z.literal("json_schema"),
    name: text,
    schema: z.looseObject({}, { error: "is required and must be a JSON Schema object" }),
    strict: nullishBoolean,
    description: z.string({ error: "must be a string" }).optional(),
  }),
});

/** `POST /v1/responses` request body. */
export const ResponsesRequestSchema = z.looseObject({
  model: z.string({ error: "is required and must be a string" }).min(1, "must not be empty"),
  input: z.union([z.string(), z.array(InputItemSchema)], {
    error: "must be a string or an array of input items",
  }).optional(),
  instructions: nullishString,
  tools: nullish(z.array(ToolSchema, { error: "must be an array of tools" })),
  tool_choice: nullish(ToolChoiceSchema),
  parallel_tool_calls: nullishBoolean,
  text: nullish(z.looseObject({
    format: nullish(FormatSchema),
    verbosity: nullish(z.enum(["low", "medium", "high"], {
      error: "must be low, medium or high",
    })),
  })),
  reasoning: nullish(z.looseObject({ effort: nullishString, summary: nullishString })),
  max_output_tokens: nullish(z.int({ error: "must be an integer" }).min(1)),
  temperature: nullish(z.number({ error: "must be a number" }).min(0).max(2)),
  top_p: nullish(z.number({ error: "must be a number" }).min(0).max(1)),
  top_logprobs: nullish(z.int({ error: "must be an integer" }).min(0).max(20)),
  metadata: nullish(z.record(z.string(), z.string({ error: "values must be strings" }))),
  user: nullishString,
  safety_identifier: nullishString,
  prompt_cache_key: nullishString,
  store: nullishBoolean,
  previous_response_id: nullishString,
  stream: nullishBoolean,
  include: nullish(z.array(z.string(), { error: "must be an array of strings" })),
  background: nullishBoolean,
  truncation: nullish(z.enum(["auto", "disabled"], { error: "must be auto or disabled" })),
  service_tier: nullishString,
  max_tool_calls: nullish(z.int({ error: "must be an integer" }).min(1)),
});

/** A validated Responses request (unknown fields included). */
export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;
/** One entry of `input` as validated: a known type matches its schema below; others are kept. */
export type InputItem = Exclude<NonNullable<ResponsesRequest["input"]>, string>[number];
/** A content part as validated. */
export type ContentPart = z.infer<typeof ContentPartSchema>;
/** One entry of `tools`. */
export type ToolParam = NonNullable<ResponsesRequest["tools"]>[number];
/** `tool_choice`. */
export type ToolChoice = NonNullable<ResponsesRequest["tool_choice"]>;
/** `text.format`. */
export type TextFormat = z.infer<typeof FormatSchema>;

export type InputText = z.infer<typeof InputTextSchema>;
export type InputImage = z.infer<typeof InputImageSchema>;
export type InputFile = z.infer<typeof InputFileSchema>;
export type OutputText = z.infer<typeof OutputTextSchema>;
export type Refusal = z.infer<typeof RefusalSchema>;
export type MessageItem = z.infer<typeof MessageItemSchema>;
export type FunctionCallItem = z.infer<typeof FunctionCallItemSchema>;
export type FunctionCallOutputItem = z.infer<typeof FunctionCallOutputItemSchema>;
export type ItemReference = z.infer<typeof ItemReferenceSchema>;
export type FunctionTool = z.infer<typeof FunctionToolSchema>;
export type NamespaceTool = z.infer<typeof NamespaceToolSchema>;

/**
 * Validates a `POST /v1/responses` body, or returns a 400 naming the first bad field.
 *
 * @example Usage
 * ```ts
 * import { parseResponsesRequest } from "./schema.ts";
 * const parsed = parseResponsesRequest({ model: "gpt-4o", input: [{ role: "user" }] });
 * // parsed.ok === false; parsed.error.param === "input[0].content"
 * ```
 */
export function parseResponsesRequest(body: unknown): Parsed<ResponsesRequest> {
  return parseRequestBody(ResponsesRequestSchema, body);
}
