import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import {
  type ChatCompletionRequest,
  parseChatCompletionRequest,
} from "../../../src/openai/schema.ts";
import type { ProviderTarget } from "../../../src/providers/mod.ts";
import { toGeminiRequest } from "../../../src/providers/gemini/request.ts";
import { encodeToolCallId } from "../../../src/providers/gemini/tool_ids.ts";

type Json = Record<string, unknown>;

function chat(body: Json): ChatCompletionRequest {
  const result = parseChatCompletionRequest(body);
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

function target(baseUrl = "https://generativelanguage.googleapis.com"): ProviderTarget {
  return { model: "gemini-2.5-flash", baseUrl, apiKey: "AIzaSy-provider-key" };
}

const HI = [{ role: "user", content: "Hello" }];

async function build(body: Json): Promise<{ body: Json; adjusted: readonly string[] }> {
  const built = toGeminiRequest(chat({ model: "gemini-2.5-flash", ...body }), target());
  if (built instanceof GatewayError) assert.fail(`unexpected error: ${built.message}`);
  return { body: await built.request.json() as Json, adjusted: built.adjusted };
}

async function bodyOf(body: Json): Promise<Json> {
  return (await build(body)).body;
}

function refused(body: Json): GatewayError {
  const built = toGeminiRequest(chat({ model: "gemini-2.5-flash", ...body }), target());
  assert.ok(built instanceof GatewayError, "expected a GatewayError");
  return built;
}

function assertInvalid(error: GatewayError, param: string): void {
  assert.equal(error.status, 400);
  assert.equal(error.type, "invalid_request_error");
  assert.equal(error.code, "invalid_request");
  assert.equal(error.param, param);
}

const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather",
    parameters: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
      additionalProperties: false,
    },
  },
};

Deno.test("toGeminiRequest() posts to :generateContent with x-goog-api-key, never ?key=", async (t) => {
  for (
    const [name, baseUrl, url] of [
      [
        "default base URL",
        "https://generativelanguage.googleapis.com",
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
      ],
      [
        "trailing slash",
        "http://127.0.0.1:9000/",
        "http://127.0.0.1:9000/v1beta/models/gemini-2.5-flash:generateContent",
      ],
    ] as const
  ) {
    await t.step(name, async () => {
      const built = toGeminiRequest(
        chat({ model: "gemini/gemini-2.5-flash", messages: HI }),
        target(baseUrl),
      );
      if (built instanceof GatewayError) assert.fail(built.message);
      const { request } = built;
      assert.equal(request.method, "POST");
      assert.equal(request.url, url);
      assert.equal(new URL(request.url).searchParams.has("key"), false);
      assert.equal(request.headers.get("x-goog-api-key"), "AIzaSy-provider-key");
      assert.equal(request.headers.get("authorization"), null);
      assert.match(request.headers.get("content-type") ?? "", /^application\/json/);
      assert.deepEqual(await request.json(), {
        contents: [{ role: "user", parts: [{ text: "Hello" }] }],
      });
    });
  }
});

Deno.test("toGeminiRequest() uses :streamGenerateContent?alt=sse for stream: true", async () => {
  const built = toGeminiRequest(
    chat({
      model: "gemini-2.5-flash",
      messages: HI,
      stream: true,
      stream_options: { include_usage: true },
    }),
    target(),
  );
  if (built instanceof GatewayError) assert.fail(built.message);
  assert.equal(
    built.request.url,
    "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
  );
  assert.equal(built.request.headers.get("accept"), "text/event-stream");
  assert.deepEqual(await built.request.json(), {
    contents: [{ role: "user", parts: [{ text: "Hello" }] }],
  });
});

Deno.test("toGeminiRequest() percent-encodes the model path segment", () => {
  const built = toGeminiRequest(chat({ model: "x", messages: HI }), {
    ...target(),
    model: "tuned/model?x#y",
  });
  if (built instanceof GatewayError) assert.fail(built.message);
  assert.equal(
    built.request.url,
    "https://generativelanguage.googleapis.com/v1beta/models/tuned%2Fmodel%3Fx%23y:generateContent",
  );
});

Deno.test("toGeminiRequest() sends no OpenAI field in the body", async () => {
  const body = await bodyOf({
    messages: [{ role: "user", content: "Hi", name: "alice" }],
    user: "u-1",
    store: true,
    metadata: { a: "b" },
    service_tier: "auto",
    stream_options: { include_usage: true },
    parallel_tool_calls: true,
    n: 1,
    max_tokens: 10,
  });
  assert.deepEqual(Object.keys(body).sort(), ["contents", "generationConfig"]);
  assert.deepEqual(body.contents, [{ role: "user", parts: [{ text: "Hi" }] }]);
  assert.deepEqual(body.generationConfig, { maxOutputTokens: 10 });
});

Deno.test("toGeminiRequest() lifts every system and developer message to systemInstruction, in order", async () => {
  const body = await bodyOf({
    messages: [
      { role: "system", content: "Be terse." },
      { role: "user", content: "Hi" },
      { role: "developer", content: [{ type: "text", text: "Answer in French." }] },
      { role: "assistant", content: "Bonjour" },
      { role: "system", content: "No emoji." },
      { role: "user", content: "Ça va ?" },
    ],
  });
  assert.deepEqual(body.systemInstruction, {
    parts: [{ text: "Be terse." }, { text: "Answer in French." }, { text: "No emoji." }],
  });
  assert.deepEqual(body.contents, [
    { role: "user", parts: [{ text: "Hi" }] },
    { role: "model", parts: [{ text: "Bonjour" }] },
    { role: "user", parts: [{ text: "Ça va ?" }] },
  ]);
});

Deno.test("toGeminiRequest() maps assistant to model and merges consecutive turns", async (t) => {
  await t.step("user + user", async () => {
    const body = await bodyOf({
      messages: [{ role: "user", content: "First" }, { role: "user", content: "Second" }],
    });
    assert.deepEqual(body.contents, [{
      role: "user",
      parts: [{ text: "First" }, { text: "Second" }],
    }]);
  });
  await t.step("assistant + assistant across a system message", async () => {
    const body = await bodyOf({
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "A" },
        { role: "system", content: "S" },
        { role: "assistant", content: "B" },
      ],
    });
    assert.deepEqual(body.contents, [
      { role: "user", parts: [{ text: "Hi" }] },
      { role: "model", parts: [{ text: "A" }, { text: "B" }] },
    ]);
  });
});

Deno.test("toGeminiRequest() never sends empty text parts", async () => {
  const body = await bodyOf({
    messages: [
      { role: "user", content: "Hi" },
      {
        role: "assistant",
        content: "",
        tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "call_1", content: "ok" },
    ],
  });
  const contents = body.contents as Json[];
  assert.deepEqual(contents[1], {
    role: "model",
    parts: [{ functionCall: { name: "f", args: {} } }],
  });
});

Deno.test("toGeminiRequest() refuses a request with only system messages", () => {
  assertInvalid(refused({ messages: [{ role: "system", content: "S" }] }), "messages");
});

Deno.test("toGeminiRequest() turns assistant tool_calls into functionCall parts after the text", async () => {
  const body = await bodyOf({
    messages: [
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          {
            id: "a",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          },
          { id: "b", type: "function", function: { name: "get_weather", arguments: "" } },
        ],
      },
      { role: "tool", tool_call_id: "a", content: "18C" },
      { role: "tool", tool_call_id: "b", content: "21C" },
    ],
  });
  assert.deepEqual((body.contents as Json[])[1], {
    role: "model",
    parts: [
      { text: "Checking." },
      { functionCall: { name: "get_weather", args: { city: "Paris" } } },
      { functionCall: { name: "get_weather", args: {} } },
    ],
  });
});

Deno.test("toGeminiRequest() puts the thought signature from the tool-call id back on the functionCall part", async () => {
  const id = encodeToolCallId("call_x_0_0", "CiQBjz1rX+sig/==");
  const body = await bodyOf({
    messages: [
      { role: "user", content: "Weather?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{
          id,
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
        }],
      },
      { role: "tool", tool_call_id: id, content: '{"temp": 3}' },
    ],
  });
  assert.deepEqual(body.contents, [
    { role: "user", parts: [{ text: "Weather?" }] },
    {
      role: "model",
      parts: [{
        functionCall: { name: "get_weather", args: { city: "Oslo" } },
        thoughtSignature: "CiQBjz1rX+sig/==",
      }],
    },
    {
      role: "user",
      parts: [{ functionResponse: { name: "get_weather", response: { output: { temp: 3 } } } }],
    },
  ]);
});

Deno.test("toGeminiRequest() puts all tool results of a turn in one user content, responses first", async () => {
  const body = await bodyOf({
    messages: [
      { role: "user", content: "Go" },
      {
        role: "assistant",
        tool_calls: [
          { id: "a", type: "function", function: { name: "one", arguments: "{}" } },
          { id: "b", type: "function", function: { name: "two", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "a", content: "plain text" },
      { role: "user", content: "And then?" },
      {
        role: "tool",
        tool_call_id: "b",
        content: [{ type: "text", text: "[1," }, { type: "text", text: "2]" }],
      },
    ],
  });
  assert.deepEqual((body.contents as Json[])[2], {
    role: "user",
    parts: [
      { functionResponse: { name: "one", response: { output: "plain text" } } },
      { functionResponse: { name: "two", response: { output: [1, 2] } } },
      { text: "And then?" },
    ],
  });
});

Deno.test("toGeminiRequest() refuses a tool message whose tool_call_id matches no earlier call", () => {
  const error = refused({
    messages: [
      { role: "user", content: "Hi" },
      {
        role: "assistant",
        tool_calls: [{ id: "a", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "zzz", content: "x" },
    ],
  });
  assertInvalid(error, "messages[2].tool_call_id");
  assert.match(error.message, /zzz/);
});

Deno.test("toGeminiRequest() refuses tool call arguments that are not a JSON object", async (t) => {
  for (const args of ["{bad", "[1]", "42"]) {
    await t.step(args, () => {
      assertInvalid(
        refused({
          messages: [
            { role: "user", content: "Hi" },
            {
              role: "assistant",
              tool_calls: [{ id: "a", type: "function", function: { name: "f", arguments: args } }],
            },
          ],
        }),
        "messages[1].tool_calls[0].function.arguments",
      );
    });
  }
});

Deno.test("toGeminiRequest() refuses the function role", () => {
  assertInvalid(
    refused({ messages: [{ role: "function", name: "f", content: "x" }] }),
    "messages[0].role",
  );
});

Deno.test("toGeminiRequest() turns data: image URLs into inlineData", async () => {
  const body = await bodyOf({
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        {
          type: "image_url",
          image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "high" },
        },
      ],
    }],
  });
  assert.deepEqual(body.contents, [{
    role: "user",
    parts: [{ text: "What is this?" }, {
      inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" },
    }],
  }]);
});

Deno.test("toGeminiRequest() sends http(s) image URLs as fileData for Gemini to fetch, typed by extension", async (t) => {
  const signed = "https://bucket.s3.amazonaws.com/cat.webp?X-Amz-Expires=300&X-Amz-Signature=ab12";
  const cases: [string, string, Json][] = [
    ["png", "https://example.com/cat.png", { mimeType: "image/png" }],
    ["upper-case JPG", "http://example.com/photos/CAT.JPG", { mimeType: "image/jpeg" }],
    ["jpeg", "https://example.com/cat.jpeg", { mimeType: "image/jpeg" }],
    ["signed URL: the query does not count", signed, { mimeType: "image/webp" }],
    ["bmp", "https://example.com/a.bmp", { mimeType: "image/bmp" }],
    ["gif (Gemini decides whether it takes it)", "https://example.com/a.gif", {
      mimeType: "image/gif",
    }],
    ["no extension: no mimeType, Gemini goes by what it fetches", "https://example.com/image", {}],
    ["an extension that is no image type", "https://example.com/image.php?id=3", {}],
    ["an extension only in the query", "https://example.com/render?format=.png", {}],
  ];
  for (const [name, url, type] of cases) {
    await t.step(name, async () => {
      const body = await bodyOf({
        messages: [{
          role: "user",
          content: [
            { type: "text", text: "See" },
            { type: "image_url", image_url: { url, detail: "low" } },
          ],
        }],
      });
      assert.deepEqual(body.contents, [{
        role: "user",
        parts: [{ text: "See" }, { fileData: { fileUri: url, ...type } }],
      }]);
    });
  }
});

Deno.test("toGeminiRequest() refuses bad data URLs and non-image types", async (t) => {
  for (
    const url of ["data:image/png,notbase64", "data:text/plain;base64,aGk=", "ftp://x/y.png"]
  ) {
    await t.step(url, () => {
      assertInvalid(
        refused({
          messages: [{ role: "user", content: [{ type: "image_url", image_url: { url } }] }],
        }),
        "messages[0].content[0].image_url",
      );
    });
  }
});

Deno.test("toGeminiRequest() turns input_audio into inlineData and refuses other part types", async () => {
  const body = await bodyOf({
    messages: [{
      role: "user",
      content: [{ type: "input_audio", input_audio: { data: "UklGR", format: "wav" } }],
    }],
  });
  assert.deepEqual(body.contents, [{
    role: "user",
    parts: [{ inlineData: { mimeType: "audio/wav", data: "UklGR" } }],
  }]);
  assertInvalid(
    refused({ messages: [{ role: "user", content: [{ type: "file", file: { file_id: "f" } }] }] }),
    "messages[0].content[0].type",
  );
});

Deno.test("toGeminiRequest() maps generation parameters to generationConfig", async (t) => {
  const cases: ReadonlyArray<readonly [string, Json, Json | undefined]> = [
    ["max_tokens", { max_tokens: 100 }, { maxOutputTokens: 100 }],
    ["max_completion_tokens wins", { max_tokens: 100, max_completion_tokens: 50 }, {
      maxOutputTokens: 50,
    }],
    ["temperature", { temperature: 1.5 }, { temperature: 1.5 }],
    ["top_p", { top_p: 0.9 }, { topP: 0.9 }],
    ["top_k (an extension field)", { top_k: 40 }, { topK: 40 }],
    ["stop string", { stop: "END" }, { stopSequences: ["END"] }],
    ["stop list", { stop: ["a", "b"] }, { stopSequences: ["a", "b"] }],
    ["n", { n: 3 }, { candidateCount: 3 }],
    ["n=1 is the default", { n: 1 }, undefined],
    ["seed", { seed: 42 }, { seed: 42 }],
    ["penalties", { presence_penalty: 0.5, frequency_penalty: -0.5 }, {
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
    }],
    ["zero penalties are not sent", { presence_penalty: 0, frequency_penalty: 0 }, undefined],
    ["response_format text", { response_format: { type: "text" } }, undefined],
    ["json_object", { response_format: { type: "json_object" } }, {
      responseMimeType: "application/json",
    }],
    [
      "json_schema without schema",
      { response_format: { type: "json_schema", json_schema: { name: "x" } } },
      { responseMimeType: "application/json" },
    ],
  ];
  for (const [name, params, expected] of cases) {
    await t.step(name, async () => {
      const body = await bodyOf({ messages: HI, ...params });
      assert.deepEqual(body.generationConfig, expected);
    });
  }
});

Deno.test("toGeminiRequest() sends json_schema as a cleaned responseSchema", async () => {
  const body = await bodyOf({
    messages: HI,
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "person",
        strict: true,
        schema: {
          $schema: "https://json-schema.org/draft/2020-12/schema",
          type: "object",
          title: "Person",
          properties: { name: { type: "string" }, age: { type: ["integer", "null"] } },
          required: ["name", "age"],
          additionalProperties: false,
        },
      },
    },
  });
  assert.deepEqual(body.generationConfig, {
    responseMimeType: "application/json",
    responseSchema: {
      type: "OBJECT",
      properties: { name: { type: "STRING" }, age: { type: "INTEGER", nullable: true } },
      required: ["name", "age"],
    },
  });
});

Deno.test("toGeminiRequest() refuses a recursive response schema naming the parameter", () => {
  const error = refused({
    messages: HI,
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "tree",
        schema: {
          $defs: {
            node: {
              type: "object",
              properties: { kids: { type: "array", items: { $ref: "#/$defs/node" } } },
            },
          },
          $ref: "#/$defs/node",
        },
      },
    },
  });
  assertInvalid(error, "response_format.json_schema.schema");
});

Deno.test("toGeminiRequest() sends tools as one functionDeclarations list with cleaned parameters", async () => {
  const body = await bodyOf({
    messages: HI,
    tools: [
      WEATHER_TOOL,
      {
        type: "function",
        function: { name: "now", parameters: { type: "object", properties: {} } },
      },
      { type: "function", function: { name: "ping", strict: true } },
    ],
  });
  assert.deepEqual(body.tools, [{
    functionDeclarations: [
      {
        name: "get_weather",
        description: "Current weather",
        parameters: {
          type: "OBJECT",
          properties: { city: { type: "STRING" } },
          required: ["city"],
        },
      },
      { name: "now" },
      { name: "ping" },
    ],
  }]);
  assert.equal("toolConfig" in body, false);
});

Deno.test("toGeminiRequest() refuses non-function tools and recursive tool schemas", async (t) => {
  await t.step("tool type", () => {
    assertInvalid(refused({ messages: HI, tools: [{ type: "web_search" }] }), "tools[0].type");
  });
  await t.step("recursive $ref", () => {
    const error = refused({
      messages: HI,
      tools: [WEATHER_TOOL, {
        type: "function",
        function: {
          name: "tree",
          parameters: {
            type: "object",
            properties: { root: { $ref: "#/definitions/node" } },
            definitions: {
              node: { type: "object", properties: { child: { $ref: "#/definitions/node" } } },
            },
          },
        },
      }],
    });
    assertInvalid(error, "tools[1].function.parameters");
    assert.match(error.message, /tool "tree"/);
  });
});

Deno.test("toGeminiRequest() maps tool_choice to functionCallingConfig", async (t) => {
  const cases: ReadonlyArray<readonly [string, unknown, Json]> = [
    ["auto", "auto", { mode: "AUTO" }],
    ["none", "none", { mode: "NONE" }],
    ["required", "required", { mode: "ANY" }],
    [
      "named",
      { type: "function", function: { name: "get_weather" } },
      { mode: "ANY", allowedFunctionNames: ["get_weather"] },
    ],
  ];
  for (const [name, choice, expected] of cases) {
    await t.step(name, async () => {
      const body = await bodyOf({ messages: HI, tools: [WEATHER_TOOL], tool_choice: choice });
      assert.deepEqual(body.toolConfig, { functionCallingConfig: expected });
    });
  }
  await t.step("unknown name", () => {
    assertInvalid(
      refused({
        messages: HI,
        tools: [WEATHER_TOOL],
        tool_choice: { type: "function", function: { name: "nope" } },
      }),
      "tool_choice",
    );
  });
  await t.step("dropped without tools", async () => {
    const body = await bodyOf({ messages: HI, tool_choice: "required" });
    assert.equal("toolConfig" in body, false);
  });
});

Deno.test("toGeminiRequest() reports parallel_tool_calls: false as adjusted", async () => {
  const { adjusted, body } = await build({
    messages: HI,
    tools: [WEATHER_TOOL],
    parallel_tool_calls: false,
  });
  assert.deepEqual(adjusted, ["parallel_tool_calls"]);
  assert.equal("parallel_tool_calls" in body, false);
});

Deno.test("toGeminiRequest() refuses unsupported non-default parameters and accepts defaults", async (t) => {
  const refusedCases: ReadonlyArray<readonly [string, Json]> = [
    ["logprobs", { logprobs: true }],
    ["top_logprobs", { top_logprobs: 2 }],
    ["logit_bias", { logit_bias: { "50256": -100 } }],
    ["audio", { audio: { voice: "alloy", format: "wav" } }],
    ["modalities", { modalities: ["text", "audio"] }],
    ["web_search_options", { web_search_options: {} }],
    ["functions", { functions: [{ name: "f" }] }],
    ["function_call", { function_call: "auto" }],
  ];
  for (const [param, params] of refusedCases) {
    await t.step(`refuses ${param}`, () => {
      assertInvalid(refused({ messages: HI, ...params }), param);
    });
  }
  await t.step("accepts defaults", async () => {
    const body = await bodyOf({
      messages: HI,
      logprobs: false,
      top_logprobs: 0,
      logit_bias: {},
      modalities: ["text"],
    });
    assert.deepEqual(body, { contents: [{ role: "user", parts: [{ text: "Hello" }] }] });
  });
});

Deno.test("toGeminiRequest() marks unsigned function calls for Gemini 3 only", async (t) => {
  const conversation = (id: string) => ({
    messages: [
      ...HI,
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id, type: "function", function: { name: "a", arguments: "{}" } },
          { id: `${id}x`, type: "function", function: { name: "b", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: id, content: "1" },
      { role: "tool", tool_call_id: `${id}x`, content: "2" },
    ],
  });
  const signatures = async (model: string, id: string) => {
    const built = toGeminiRequest(chat({ model, ...conversation(id) }), { ...target(), model });
    if (built instanceof GatewayError) assert.fail(built.message);
    const body = await built.request.json() as {
      contents: { parts: { thoughtSignature?: string }[] }[];
    };
    return body.contents[1]?.parts.map((p) => p.thoughtSignature);
  };
  await t.step(
    "Gemini 3, a call from elsewhere: the first call gets the documented placeholder",
    async () => {
      assert.deepEqual(await signatures("gemini-3-pro-preview", "call_other"), [
        "skip_thought_signature_validator",
        undefined,
      ]);
    },
  );
  await t.step("Gemini 3, a signed call: its own signature is kept", async () => {
    const id = encodeToolCallId("call_1", "c2lnbmF0dXJl");
    assert.deepEqual(await signatures("gemini-3-pro-preview", id), ["c2lnbmF0dXJl", undefined]);
  });
  await t.step("Gemini 2.5: nothing added", async () => {
    assert.deepEqual(await signatures("gemini-2.5-flash", "call_other"), [undefined, undefined]);
  });
});

/** The generationConfig and adjusted list of a request with `reasoning_effort` to `model`. */
async function thinkingOf(
  model: string,
  effort: string,
): Promise<{ config: unknown; adjusted: readonly string[] }> {
  const built = toGeminiRequest(
    chat({ model, messages: HI, reasoning_effort: effort }),
    { ...target(), model },
  );
  if (built instanceof GatewayError) assert.fail(`unexpected error: ${built.message}`);
  const body = await built.request.json() as { generationConfig?: { thinkingConfig?: unknown } };
  return { config: body.generationConfig?.thinkingConfig, adjusted: built.adjusted };
}

Deno.test("toGeminiRequest() maps reasoning_effort to thinkingConfig by the model's family", async (t) => {
  const on = { includeThoughts: true };
  // model, reasoning_effort, thinkingConfig, named in adjusted
  const cases: ReadonlyArray<readonly [string, string, Json | undefined, boolean]> = [
    ["gemini-3-flash-preview", "none", { thinkingLevel: "minimal" }, true],
    ["gemini-3-flash-preview", "minimal", { thinkingLevel: "minimal", ...on }, false],
    ["gemini-3-flash-preview", "low", { thinkingLevel: "low", ...on }, false],
    ["gemini-3-flash-preview", "medium", { thinkingLevel: "medium", ...on }, false],
    ["gemini-3-flash-preview", "high", { thinkingLevel: "high", ...on }, false],
    ["gemini-3-flash-preview", "xhigh", { thinkingLevel: "high", ...on }, true],
    ["gemini-3.1-flash-lite-preview", "minimal", { thinkingLevel: "minimal", ...on }, false],
    ["gemini-flash-latest", "low", { thinkingLevel: "low", ...on }, false],
    ["gemini-3.1-pro-preview", "none", { thinkingLevel: "low" }, true],
    ["gemini-3.1-pro-preview", "minimal", { thinkingLevel: "low", ...on }, true],
    ["gemini-3.1-pro-preview", "medium", { thinkingLevel: "medium", ...on }, false],
    ["models/gemini-3-pro-preview", "high", { thinkingLevel: "high", ...on }, false],
    ["gemini-pro-latest", "minimal", { thinkingLevel: "low", ...on }, true],
    ["gemini-2.5-flash", "none", { thinkingBudget: 0 }, false],
    ["gemini-2.5-flash", "minimal", { thinkingBudget: 512, ...on }, false],
    ["gemini-2.5-flash", "low", { thinkingBudget: 4096, ...on }, false],
    ["gemini-2.5-flash", "medium", { thinkingBudget: 16384, ...on }, false],
    ["gemini-2.5-flash", "high", { thinkingBudget: 24576, ...on }, false],
    ["gemini-2.5-flash", "xhigh", { thinkingBudget: 24576, ...on }, true],
    ["gemini-2.5-flash-lite", "none", { thinkingBudget: 0 }, false],
    ["gemini-2.5-flash-lite", "minimal", { thinkingBudget: 512, ...on }, false],
    ["gemini-2.5-pro", "none", { thinkingBudget: 128 }, true],
    ["gemini-2.5-pro", "minimal", { thinkingBudget: 512, ...on }, false],
    ["gemini-2.5-pro", "high", { thinkingBudget: 32768, ...on }, false],
    ["gemini-2.5-pro", "xhigh", { thinkingBudget: 32768, ...on }, true],
    ["gemini-2.5-pro", "max", { thinkingBudget: 32768, ...on }, true],
    ["gemini-3-flash-preview", "max", { thinkingLevel: "high", ...on }, true],
    ["gemini-2.0-flash", "high", undefined, true],
    ["gemini-1.5-pro", "low", undefined, true],
    ["gemma-3-27b-it", "low", undefined, true],
  ];
  for (const [model, effort, config, adjusted] of cases) {
    await t.step(`${model}, ${effort}`, async () => {
      const built = await thinkingOf(model, effort);
      assert.deepEqual(built.config, config);
      assert.deepEqual(built.adjusted, adjusted ? ["reasoning_effort"] : []);
    });
  }
});

Deno.test("toGeminiRequest() sends no thinkingConfig without reasoning_effort", async (t) => {
  for (const params of [{}, { reasoning_effort: null }]) {
    await t.step(JSON.stringify(params), async () => {
      const { body, adjusted } = await build({ messages: HI, max_tokens: 10, ...params });
      assert.deepEqual(body.generationConfig, { maxOutputTokens: 10 });
      assert.deepEqual(adjusted, []);
    });
  }
});

Deno.test("toGeminiRequest() refuses a reasoning_effort OpenAI does not define", async (t) => {
  for (const effort of ["turbo", "LOW", 3]) {
    await t.step(JSON.stringify(effort), () => {
      const error = refused({ messages: HI, reasoning_effort: effort });
      assertInvalid(error, "reasoning_effort");
      assert.match(error.message, /is not one of none, minimal, low, medium, high, xhigh, max$/);
    });
  }
});
