import assert from "node:assert/strict";
import fc from "fast-check";
import { GatewayError } from "../../../src/errors.ts";
import {
  itemType,
  parseResponsesRequest,
  type ResponsesRequest,
} from "../../../src/dialects/responses/schema.ts";
import { captureSdkRequest } from "./_sdk.ts";

type Json = Record<string, unknown>;

function base(extra: Json = {}): Json {
  return { model: "gpt-5", input: "Hello", ...extra };
}

function accepted(body: unknown): ResponsesRequest {
  const result = parseResponsesRequest(body);
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

function rejected(body: unknown): GatewayError {
  const result = parseResponsesRequest(body);
  assert.ok(!result.ok, "expected a 400");
  return result.error;
}

const PNG = "data:image/png;base64,iVBORw0KGgo=";

Deno.test("parseResponsesRequest() accepts what clients send, unknown fields kept", async (t) => {
  const cases: [string, Json][] = [
    ["a string input", base()],
    ["no input (previous_response_id alone)", { model: "gpt-5", previous_response_id: "resp_1" }],
    [
      "every known input item",
      base({
        input: [
          { role: "developer", content: "Rules" },
          { type: "message", role: "user", content: [{ type: "input_text", text: "Look" }] },
          {
            role: "user",
            content: [
              { type: "input_image", image_url: PNG, detail: "auto" },
              { type: "input_image", file_id: "file_1" },
              {
                type: "input_file",
                file_data: "data:application/pdf;base64,JVBE",
                filename: "a.pdf",
              },
              { type: "input_file", file_url: "https://x/a.pdf" },
            ],
          },
          {
            type: "message",
            id: "msg_1",
            status: "completed",
            role: "assistant",
            content: [{ type: "output_text", text: "Hi", annotations: [] }, {
              type: "refusal",
              refusal: "no",
            }],
          },
          { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "gAAA" },
          { type: "function_call", call_id: "call_1", name: "f", arguments: "{}", id: "fc_1" },
          { type: "function_call_output", call_id: "call_1", output: "ok" },
          {
            type: "function_call_output",
            call_id: "call_1",
            output: [{ type: "input_text", text: "ok" }],
          },
          { type: "item_reference", id: "msg_0" },
          { id: "msg_0" },
        ],
      }),
    ],
    [
      "OpenAI's own item and tool types",
      base({
        input: [{ type: "web_search_call", id: "ws_1", status: "completed", action: {} }],
        tools: [{ type: "web_search" }, { type: "mcp", server_label: "x" }, {
          type: "custom",
          name: "apply_patch",
        }],
        tool_choice: { type: "file_search" },
      }),
    ],
    [
      "every known parameter",
      base({
        instructions: "Be brief.",
        tools: [{
          type: "function",
          name: "get_weather",
          description: "Weather",
          parameters: { type: "object", properties: {} },
          strict: true,
        }],
        tool_choice: {
          type: "allowed_tools",
          mode: "auto",
          tools: [{ type: "function", name: "f" }],
        },
        parallel_tool_calls: false,
        text: {
          format: { type: "json_schema", name: "out", schema: { type: "object" }, strict: true },
          verbosity: "low",
        },
        reasoning: { effort: "minimal", summary: "auto" },
        max_output_tokens: 100,
        temperature: 0.5,
        top_p: 1,
        metadata: { a: "b" },
        user: "u",
        safety_identifier: "s",
        prompt_cache_key: "k",
        store: false,
        previous_response_id: "resp_1",
        stream: true,
        include: ["reasoning.encrypted_content"],
        background: false,
        truncation: "disabled",
        service_tier: "auto",
      }),
    ],
    ["null for every nullable field", base({ instructions: null, tools: null, text: null })],
  ];
  for (const [name, body] of cases) {
    await t.step(name, () => {
      assert.deepEqual(accepted({ ...body, future_field: { x: 1 } }), {
        ...body,
        future_field: { x: 1 },
      });
    });
  }
});

Deno.test("parseResponsesRequest() accepts what the openai SDK sends", async (t) => {
  const calls: [string, Json][] = [
    ["a plain call", { model: "gpt-5", input: "Hi" }],
    [
      "tools, structured output, reasoning",
      {
        model: "gpt-5",
        input: [{ role: "user", content: "Weather?" }],
        tools: [{ type: "function", name: "w", parameters: {}, strict: false }],
        text: { format: { type: "json_schema", name: "o", schema: { type: "object" } } },
        reasoning: { effort: "high" },
        stream: true,
      },
    ],
  ];
  for (const [name, params] of calls) {
    await t.step(name, async () => {
      // deno-lint-ignore no-explicit-any
      const body = await captureSdkRequest((client) => client.responses.create(params as any));
      accepted(body);
    });
  }
});

Deno.test("parseResponsesRequest() names the first bad field", async (t) => {
  const cases: [string, Json | null, string | null][] = [
    ["not an object", null, null],
    ["no model", { input: "x" }, "model"],
    ["input of the wrong type", base({ input: 3 }), "input"],
    ["a message without content", base({ input: [{ role: "user" }] }), "input[0].content"],
    ["an unknown role", base({ input: [{ role: "tool", content: "x" }] }), "input[0].role"],
    [
      "a function call without arguments",
      base({ input: [{ type: "function_call", call_id: "c", name: "f" }] }),
      "input[0].arguments",
    ],
    [
      "an item reference without an id",
      base({ input: [{ type: "item_reference" }] }),
      "input[0].id",
    ],
    [
      "an image with neither URL nor file",
      base({ input: [{ role: "user", content: [{ type: "input_image", detail: "low" }] }] }),
      "input[0].content[0].image_url",
    ],
    [
      "a text part without text",
      base({ input: [{ role: "user", content: [{ type: "input_text" }] }] }),
      "input[0].content[0].text",
    ],
    ["a function tool without a name", base({ tools: [{ type: "function" }] }), "tools[0].name"],
    [
      "a namespace tool without tools",
      base({ tools: [{ type: "namespace", name: "ns" }] }),
      "tools[0].tools",
    ],
    [
      "a namespace's function without a name",
      base({ tools: [{ type: "namespace", name: "ns", tools: [{ type: "function" }] }] }),
      "tools[0].tools[0].name",
    ],
    ["a bad tool_choice", base({ tool_choice: "any" }), "tool_choice"],
    [
      "a function choice without a name",
      base({ tool_choice: { type: "function" } }),
      "tool_choice.name",
    ],
    [
      "a json_schema format without a schema",
      base({ text: { format: { type: "json_schema", name: "x" } } }),
      "text.format.schema",
    ],
    ["a bad verbosity", base({ text: { verbosity: "loud" } }), "text.verbosity"],
    ["max_output_tokens of 0", base({ max_output_tokens: 0 }), "max_output_tokens"],
    ["temperature above 2", base({ temperature: 3 }), "temperature"],
    ["metadata that is not strings", base({ metadata: { a: 1 } }), "metadata.a"],
    ["a bad truncation", base({ truncation: "middle" }), "truncation"],
    ["store not a boolean", base({ store: "yes" }), "store"],
  ];
  for (const [name, body, param] of cases) {
    await t.step(name, () => {
      const error = rejected(body);
      assert.equal(error.status, 400);
      assert.equal(error.code, "invalid_request");
      assert.equal(error.param, param);
    });
  }
});

Deno.test("itemType() tells messages from item references when type is left out", () => {
  assert.equal(itemType({ role: "user" }), "message");
  assert.equal(itemType({ id: "msg_1" }), "item_reference");
  assert.equal(itemType({ type: "reasoning" }), "reasoning");
});

Deno.test("parseResponsesRequest() never throws, whatever the body", () => {
  const part = fc.record({
    type: fc.constantFrom("input_text", "input_image", "input_file", "output_text", "refusal", "x"),
    text: fc.anything(),
    image_url: fc.anything(),
  }, { requiredKeys: ["type"] });
  const item = fc.oneof(
    fc.anything(),
    fc.record({
      type: fc.option(
        fc.constantFrom(
          "message",
          "function_call",
          "function_call_output",
          "reasoning",
          "item_reference",
        ),
      ),
      role: fc.constantFrom("user", "assistant", "system", "developer", "tool"),
      content: fc.oneof(fc.string(), fc.array(part)),
      call_id: fc.anything(),
      output: fc.anything(),
      id: fc.anything(),
    }, { requiredKeys: [] }),
  );
  const body = fc.oneof(
    fc.anything(),
    fc.record({
      model: fc.anything(),
      input: fc.oneof(fc.string(), fc.array(item)),
      tools: fc.anything(),
      tool_choice: fc.anything(),
      text: fc.anything(),
      reasoning: fc.anything(),
    }, { requiredKeys: [] }),
  );
  fc.assert(fc.property(body, (value) => {
    const result = parseResponsesRequest(value);
    if (!result.ok) assert.ok(result.error instanceof GatewayError);
  }));
});
