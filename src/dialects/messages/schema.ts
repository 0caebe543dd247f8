/**
 * Zod schemas of an Anthropic Messages request (`POST /v1/messages`, `POST
 * /v1/messages/count_tokens`) as clients send it.
 *
 * The schemas are loose: a request that goes to Anthropic passes through natively, so fields,
 * content block types, source types and tool types the gateway does not know are kept (a new
 * Anthropic feature works through ChoreoAI the day it ships). What the gateway does know is
 * checked, so the translation for other providers can rely on it: a known block type with a bad
 * field is a 400 naming that field (`messages[0].content[1].source.data`).
 */
import { z } from "zod";
import { type Parsed, parseRequestBody } from "../../openai/schema.ts";

/**
 * An object with a string `type`: a known type must match its schema (its issues are reported
 * at their own paths), an unknown type is accepted as it is. The value is kept whole.
 */
function byType(schemas: Readonly<Record<string, z.ZodType>>) {
  return z.looseObject({ type: z.string({ error: "is required and must be a string" }) })
    .superRefine((value, ctx) => {
      const schema = Object.hasOwn(schemas, value.type) ? schemas[value.type] : undefined;
      const result = schema?.safeParse(value);
      if (result === undefined || result.success) return;
      for (const issue of result.error.issues) {
        ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
      }
    });
}

const text = z.string({ error: "is required and must be a string" });
const nullishString = z.string().nullable().optional();

const TextBlockSchema = z.looseObject({ type: z.literal("text"), text });

const Base64SourceSchema = z.looseObject({
  type: z.literal("base64"),
  media_type: text,
  data: text,
});
const UrlSourceSchema = z.looseObject({ type: z.literal("url"), url: text });
const FileSourceSchema = z.looseObject({ type: z.literal("file"), file_id: text });
const PlainTextSourceSchema = z.looseObject({
  type: z.literal("text"),
  media_type: z.string().optional(),
  data: text,
});
const ContentSourceSchema = z.looseObject({
  type: z.literal("content"),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))], {
    error: "must be a string or an array of text and image blocks",
  }),
});

const ImageSource = byType({
  base64: Base64SourceSchema,
  url: UrlSourceSchema,
  file: FileSourceSchema,
});
const DocumentSource = byType({
  base64: Base64SourceSchema,
  text: PlainTextSourceSchema,
  content: ContentSourceSchema,
  url: UrlSourceSchema,
  file: FileSourceSchema,
});

const ImageBlockSchema = z.looseObject({ type: z.literal("image"), source: ImageSource });
const DocumentBlockSchema = z.looseObject({
  type: z.literal("document"),
  source: DocumentSource,
  title: nullishString,
  context: nullishString,
  citations: z.looseObject({ enabled: z.boolean().optional() }).nullable().optional(),
});
const SearchResultBlockSchema = z.looseObject({
  type: z.literal("search_result"),
  source: text,
  title: text,
  content: z.array(TextBlockSchema, { error: "must be an array of text blocks" }),
});
const ToolUseBlockSchema = z.looseObject({
  type: z.literal("tool_use"),
  id: text,
  name: text,
  input: z.unknown(),
});
const ToolResultBlockSchema = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: text,
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))], {
    error: "must be a string or an array of content blocks",
  }).optional(),
  is_error: z.boolean().optional(),
});
const ThinkingBlockSchema = z.looseObject({
  type: z.literal("thinking"),
  thinking: text,
  signature: z.string().optional(),
});
const RedactedThinkingBlockSchema = z.looseObject({
  type: z.literal("redacted_thinking"),
  data: text,
});
const ToolReferenceBlockSchema = z.looseObject({
  type: z.literal("tool_reference"),
  tool_name: text,
});

/** Content blocks (also inside tool results and content documents), known types checked. */
const ContentBlockSchema = byType({
  text: TextBlockSchema,
  image: ImageBlockSchema,
  document: DocumentBlockSchema,
  search_result: SearchResultBlockSchema,
  tool_use: ToolUseBlockSchema,
  tool_result: ToolResultBlockSchema,
  thinking: ThinkingBlockSchema,
  redacted_thinking: RedactedThinkingBlockSchema,
  tool_reference: ToolReferenceBlockSchema,
});

const ROLES = ["user", "assistant", "system"] as const;

const MessageSchema = z.looseObject({
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` }),
  content: z.union([z.string(), z.array(ContentBlockSchema)], {
    error: "is required and must be a string or an array of content blocks",
  }),
});

/** A custom tool: `type` absent, null or `"custom"`. Other types are Anthropic's own tools. */
export function isCustomTool(tool: { type?: unknown }): boolean {
  return tool.type === undefined || tool.type === null || tool.type === "custom";
}

const CustomToolSchema = z.looseObject({
  name: z.string({ error: "is required and must be a string" }).min(1, "must not be empty"),
  description: z.string().optional(),
  input_schema: z.looseObject({}, { error: "is required and must be a JSON Schema object" }),
  strict: z.boolean().optional(),
  input_examples: z.array(z.unknown()).optional(),
});

const ToolSchema = z.looseObject({ type: z.string().nullable().optional() }, {
  error: "must be a tool object",
}).superRefine((tool, ctx) => {
  if (!isCustomTool(tool)) return;
  const result = CustomToolSchema.safeParse(tool);
  if (result.success) return;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
  }
});

const disableParallel = z.boolean().optional();
const ToolChoiceSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("auto"), disable_parallel_tool_use: disableParallel }),
  z.looseObject({ type: z.literal("any"), disable_parallel_tool_use: disableParallel }),
  z.looseObject({
    type: z.literal("tool"),
    name: text,
    disable_parallel_tool_use: disableParallel,
  }),
  z.looseObject({ type: z.literal("none") }),
]);

const ThinkingSchema = byType({
  enabled: z.looseObject({
    type: z.literal("enabled"),
    budget_tokens: z.int({ error: "is required and must be an integer" }).min(0),
  }),
  disabled: z.looseObject({ type: z.literal("disabled") }),
  adaptive: z.looseObject({ type: z.literal("adaptive") }),
});

const OutputFormatSchema = byType({
  json_schema: z.looseObject({
    type: z.literal("json_schema"),
    schema: z.looseObject({}, { error: "is required and must be a JSON Schema object" }),
  }),
});

/** Fields shared by `POST /v1/messages` and `POST /v1/messages/count_tokens`. */
const MessagesBaseShape = {
  model: z.string({ error: "is required and must be a string" }).min(1, "must not be empty"),
  messages: z.array(MessageSchema, { error: "is required and must be an array of messages" })
    .min(1, "must contain at least one message"),
  system: z.union([z.string(), z.array(TextBlockSchema)], {
    error: "must be a string or an array of text blocks",
  }).optional(),
  tools: z.array(ToolSchema, { error: "must be an array of tools" }).optional(),
  tool_choice: ToolChoiceSchema.optional(),
  thinking: ThinkingSchema.optional(),
  output_config: z.looseObject({
    effort: z.string().nullable().optional(),
    format: OutputFormatSchema.nullable().optional(),
  }).optional(),
  output_format: OutputFormatSchema.nullable().optional(),
};

/** `POST /v1/messages` request body. */
export const MessagesRequestSchema = z.looseObject({
  ...MessagesBaseShape,
  max_tokens: z.int({ error: "is required and must be an integer" }).min(1),
  stop_sequences: z.array(z.string(), { error: "must be an array of strings" }).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.int().min(0).optional(),
  metadata: z.looseObject({ user_id: nullishString }).optional(),
});

/** `POST /v1/messages/count_tokens` request body (no `max_tokens`). */
export const MessagesCountTokensRequestSchema = z.looseObject(MessagesBaseShape);

/** A validated Messages request (unknown fields included). */
export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;
/** A validated count_tokens request (unknown fields included). */
export type MessagesCountTokensRequest = z.infer<typeof MessagesCountTokensRequestSchema>;
/** One entry of `messages`. */
export type MessageParam = MessagesRequest["messages"][number];
/** A content block as validated: a known `type` matches its schema below; others are kept. */
export type ContentBlock = Exclude<MessageParam["content"], string>[number];
/** One entry of `tools`. */
export type ToolParam = NonNullable<MessagesRequest["tools"]>[number];
/** `tool_choice`. */
export type ToolChoice = NonNullable<MessagesRequest["tool_choice"]>;

export type TextBlock = z.infer<typeof TextBlockSchema>;
export type ImageBlock = z.infer<typeof ImageBlockSchema>;
export type DocumentBlock = z.infer<typeof DocumentBlockSchema>;
export type SearchResultBlock = z.infer<typeof SearchResultBlockSchema>;
export type ToolUseBlock = z.infer<typeof ToolUseBlockSchema>;
export type ToolResultBlock = z.infer<typeof ToolResultBlockSchema>;
export type ToolReferenceBlock = z.infer<typeof ToolReferenceBlockSchema>;
export type Base64Source = z.infer<typeof Base64SourceSchema>;
export type UrlSource = z.infer<typeof UrlSourceSchema>;
export type PlainTextSource = z.infer<typeof PlainTextSourceSchema>;
export type ContentSource = z.infer<typeof ContentSourceSchema>;
export type CustomTool = z.infer<typeof CustomToolSchema>;

/** Validates a `POST /v1/messages` body, or returns a 400 naming the first bad field. */
export function parseMessagesRequest(body: unknown): Parsed<MessagesRequest> {
  return parseRequestBody(MessagesRequestSchema, body);
}

/** Validates a `POST /v1/messages/count_tokens` body, or returns a 400 naming the first bad field. */
export function parseMessagesCountTokensRequest(
  body: unknown,
): Parsed<MessagesCountTokensRequest> {
  return parseRequestBody(MessagesCountTokensRequestSchema, body);
}
