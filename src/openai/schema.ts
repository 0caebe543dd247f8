/**
 * Zod schemas of the public OpenAI surface the gateway accepts and returns.
 *
 * Request schemas are loose: fields the gateway does not know are kept and passed on, so a new
 * OpenAI parameter works through ChoreoAI the day it ships.
 */
import { z } from "zod";
import { errors, type GatewayError } from "../errors.ts";

const nullish = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

const ContentPart = z.looseObject({ type: z.string({ error: "must be a string" }) });

const Content = z.union([z.string(), z.array(ContentPart).min(1, "must not be empty")], {
  error: "must be a string or a non-empty array of content parts",
});

const ToolCall = z.looseObject({
  id: z.string(),
  type: z.string(),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const ROLES = ["developer", "system", "user", "assistant", "tool", "function"] as const;

const Message = z
  .looseObject({
    role: z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` }),
    content: nullish(Content),
    name: z.string().optional(),
    tool_calls: z.array(ToolCall).optional(),
    tool_call_id: z.string().optional(),
  })
  .superRefine((message, ctx) => {
    const hasContent = message.content !== undefined && message.content !== null;
    if (message.role === "assistant") {
      if (!hasContent && (message.tool_calls?.length ?? 0) === 0) {
        ctx.addIssue({
          code: "custom",
          path: ["content"],
          message: "an assistant message needs content or tool_calls",
        });
      }
      return;
    }
    if (!hasContent) {
      ctx.addIssue({ code: "custom", path: ["content"], message: "is required" });
    }
    if (message.role === "tool" && message.tool_call_id === undefined) {
      ctx.addIssue({ code: "custom", path: ["tool_call_id"], message: "is required" });
    }
  });

const Tool = z.looseObject({
  type: z.string(),
  function: z.looseObject({ name: z.string().min(1) }).optional(),
});

/** `POST /v1/chat/completions` request body. */
export const ChatCompletionRequestSchema = z.looseObject({
  model: z.string({ error: "is required and must be a string" }).min(1, "must not be empty"),
  messages: z
    .array(Message, { error: "is required and must be an array of messages" })
    .min(1, "must contain at least one message"),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.looseObject({ include_usage: z.boolean().optional() })),
  max_tokens: nullish(z.int().min(1)),
  max_completion_tokens: nullish(z.int().min(1)),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().min(0).max(1)),
  n: nullish(z.int().min(1).max(128)),
  presence_penalty: nullish(z.number().min(-2).max(2)),
  frequency_penalty: nullish(z.number().min(-2).max(2)),
  stop: nullish(
    z.union([z.string(), z.array(z.string()).min(1).max(4)], {
      error: "must be a string or an array of 1 to 4 strings",
    }),
  ),
  seed: nullish(z.int()),
  user: nullish(z.string()),
  tools: nullish(z.array(Tool)),
  tool_choice: nullish(z.union([z.enum(["none", "auto", "required"]), z.looseObject({})])),
  parallel_tool_calls: nullish(z.boolean()),
  response_format: nullish(
    z.looseObject({ type: z.enum(["text", "json_object", "json_schema"]) }),
  ),
});

/** A validated chat completion request (unknown fields included). */
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

/** One request message. */
export type ChatMessage = ChatCompletionRequest["messages"][number];

/** Token counts, as OpenAI reports them. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Formats a zod path as OpenAI-style `param`: `messages[0].content`. */
export function formatParam(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** A validated request body, or the 400 that names its first bad field. */
export type Parsed<T> = { ok: true; request: T } | { ok: false; error: GatewayError };

/**
 * Validates a request body against `schema`: the data, or a 400 `invalid_request` whose `param`
 * names the first bad field (`messages[0].content`) as OpenAI does.
 */
export function parseRequestBody<T>(schema: z.ZodType<T>, body: unknown): Parsed<T> {
  const result = schema.safeParse(body);
  if (result.success) return { ok: true, request: result.data };
  const issue = result.error.issues[0];
  if (issue === undefined || issue.path.length === 0) {
    return { ok: false, error: errors.invalidRequest("Request body must be a JSON object") };
  }
  const param = formatParam(issue.path);
  const message = `Invalid value for '${param}': ${issue.message}`;
  return { ok: false, error: errors.invalidRequest(message, param) };
}

/** Validates a chat request body, or returns a 400 naming the first bad field. */
export function parseChatCompletionRequest(body: unknown): Parsed<ChatCompletionRequest> {
  return parseRequestBody(ChatCompletionRequestSchema, body);
}

/** Whether the client asked for a final usage chunk on a stream. */
export function wantsStreamUsage(request: ChatCompletionRequest): boolean {
  return request.stream_options?.include_usage === true;
}
