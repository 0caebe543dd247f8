/**
 * The TypeScript client against the real gateway over real HTTP: completions, models,
 * embeddings, parameters and headers passed through, and the client's own settings.
 */
import assert from "node:assert/strict";
import { type ChatCompletion, ChoreoAI, ChoreoAIError } from "../../src/client/mod.ts";
import { CLIENT_KEY, startGateway } from "../_helpers/gateway.ts";
import { startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { clientFor, openaiEnv, recordingFetch } from "./_helpers.ts";

function norm(values: readonly number[]): number {
  return Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));
}

Deno.test("chat.completions.create() returns the echo model's completion", async () => {
  await using gateway = startGateway();
  const client = clientFor(gateway);
  const completion: ChatCompletion = await client.chat.completions.create({
    model: "choreoai/echo",
    messages: [
      { role: "system", content: "Be brief" },
      { role: "user", content: "Hello!" },
    ],
  });
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.model, "choreoai/echo");
  assert.equal(completion.choices[0]?.message.role, "assistant");
  assert.equal(completion.choices[0]?.message.content, "Hello!");
  assert.equal(completion.choices[0]?.finish_reason, "stop");
  assert.ok((completion.usage?.prompt_tokens ?? 0) > 0);
  assert.equal(
    completion.usage?.total_tokens,
    (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
  );
  assert.match(completion._request_id ?? "", /^req_/);
  assert.equal("_request_id" in JSON.parse(JSON.stringify(completion)), false);
});

Deno.test("create() sends every parameter, known or not, and the per-request options", async () => {
  await using upstream = startFakeOpenAI();
  await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
  const recorder = recordingFetch();
  const client = clientFor(gateway, {
    fetch: recorder.fetch,
    defaultHeaders: { "x-team": "research", "x-dropped": "yes" },
  });
  const completion = await client.chat.completions.create(
    {
      model: "gpt-4o",
      messages: [{ role: "user", content: "Hi" }],
      temperature: 0.2,
      max_completion_tokens: 50,
      seed: 7,
      reasoning_effort: "low",
      some_future_parameter: { nested: [1, 2] },
    },
    {
      headers: { "x-request-id": "trace-client-1", "x-dropped": null },
      query: { "api-version": "1", skipped: undefined },
    },
  );
  assert.equal(completion.choices[0]?.message.content, "Hello from the fake upstream");
  assert.equal(completion._request_id, "trace-client-1");
  const sent = upstream.requests[0]?.body;
  assert.equal(sent?.model, "gpt-4o");
  assert.equal(sent?.temperature, 0.2);
  assert.equal(sent?.max_completion_tokens, 50);
  assert.equal(sent?.seed, 7);
  assert.equal(sent?.reasoning_effort, "low");
  assert.deepEqual(sent?.some_future_parameter, { nested: [1, 2] });
  const request = recorder.requests[0];
  assert.ok(request);
  assert.equal(request.method, "POST");
  assert.equal(request.url, `${gateway.url}/v1/chat/completions?api-version=1`);
  assert.equal(request.headers.get("authorization"), `Bearer ${CLIENT_KEY}`);
  assert.equal(request.headers.get("content-type"), "application/json");
  assert.equal(request.headers.get("accept"), "application/json");
  assert.equal(request.headers.get("x-team"), "research");
  assert.equal(request.headers.get("x-dropped"), null);
  assert.equal(request.headers.get("x-request-id"), "trace-client-1");
  assert.equal(request.redirect, "manual");
});

Deno.test("the Authorization header is always the client's own key", async () => {
  await using gateway = startGateway();
  const recorder = recordingFetch();
  const client = clientFor(gateway, {
    fetch: recorder.fetch,
    defaultHeaders: { Authorization: "Bearer someone-else" },
  });
  await client.models.list({ headers: { authorization: "Bearer another-one" } });
  assert.equal(recorder.requests[0]?.headers.get("authorization"), `Bearer ${CLIENT_KEY}`);
  assert.equal(recorder.requests[0]?.headers.get("content-type"), null, "no body, no type");
});

Deno.test("models.list() returns { object, data }, iterable with for and for await", async () => {
  await using upstream = startFakeOpenAI({ models: ["gpt-4o", "gpt-4o-mini"] });
  await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
  const client = clientFor(gateway);
  const list = await client.models.list();
  assert.equal(list.object, "list");
  const ids = list.data.map((model) => model.id);
  assert.ok(ids.includes("choreoai/echo"), ids.join());
  assert.ok(ids.includes("openai/gpt-4o"), ids.join());
  assert.deepEqual([...list].map((model) => model.id), ids);
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(list))).sort(), ["data", "object"]);
  assert.match(list._request_id ?? "", /^req_/);
  const walked: string[] = [];
  for await (const model of client.models.list()) walked.push(model.id);
  assert.deepEqual(walked, ids);
  const echo = list.data.find((model) => model.id === "choreoai/echo");
  assert.equal(echo?.object, "model");
  assert.equal(typeof echo?.created, "number");
  assert.equal(typeof echo?.owned_by, "string");
});

Deno.test("models.retrieve() URL-encodes the id, so ids with a slash work", async () => {
  await using gateway = startGateway();
  const recorder = recordingFetch();
  const client = clientFor(gateway, { fetch: recorder.fetch });
  const echo = await client.models.retrieve("choreoai/echo");
  assert.equal(echo.id, "choreoai/echo");
  assert.equal(echo.object, "model");
  assert.equal(recorder.requests[0]?.url, `${gateway.url}/v1/models/choreoai%2Fecho`);
  assert.equal(recorder.requests[0]?.method, "GET");
  await assert.rejects(client.models.retrieve(""), TypeError);
});

Deno.test("embeddings.create(): echo unit vectors, dimensions, base64", async (t) => {
  await using gateway = startGateway();
  const client = clientFor(gateway);
  await t.step("float vectors, 16 dimensions by default", async () => {
    const result = await client.embeddings.create({
      model: "choreoai/echo",
      input: ["first text", "second text", "first text"],
    });
    assert.equal(result.object, "list");
    assert.equal(result.model, "choreoai/echo");
    assert.deepEqual(result.data.map((item) => item.index), [0, 1, 2]);
    assert.equal(result.data[0]?.object, "embedding");
    assert.equal(result.data[0]?.embedding.length, 16);
    assert.ok(Math.abs(norm(result.data[0]?.embedding ?? []) - 1) < 1e-5);
    assert.deepEqual(result.data[0]?.embedding, result.data[2]?.embedding);
    assert.notDeepEqual(result.data[0]?.embedding, result.data[1]?.embedding);
    assert.ok(result.usage.prompt_tokens > 0);
    assert.match(result._request_id ?? "", /^req_/);
  });
  await t.step("dimensions", async () => {
    const result = await client.embeddings.create({
      model: "choreoai/echo",
      input: "one text",
      dimensions: 5,
    });
    assert.equal(result.data.length, 1);
    assert.equal(result.data[0]?.embedding.length, 5);
  });
  await t.step("base64: the server's text, unchanged; the same floats", async () => {
    const floats = await client.embeddings.create({
      model: "choreoai/echo",
      input: "one text",
      encoding_format: "float",
    });
    const base64 = await client.embeddings.create({
      model: "choreoai/echo",
      input: "one text",
      encoding_format: "base64",
    });
    const text: string = base64.data[0]?.embedding ?? "";
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    assert.deepEqual(
      [...new Float32Array(bytes.buffer)],
      [...new Float32Array(floats.data[0]?.embedding ?? [])],
    );
  });
});

Deno.test("new ChoreoAI() reads CHOREOAI_API_KEY and CHOREOAI_BASE_URL", async (t) => {
  await using gateway = startGateway();
  const saved = {
    key: Deno.env.get("CHOREOAI_API_KEY"),
    base: Deno.env.get("CHOREOAI_BASE_URL"),
  };
  const restore = (name: string, value: string | undefined) =>
    value === undefined ? Deno.env.delete(name) : Deno.env.set(name, value);
  try {
    await t.step("both from the environment", async () => {
      Deno.env.set("CHOREOAI_API_KEY", "sk-from-the-environment-0123");
      Deno.env.set("CHOREOAI_BASE_URL", `${gateway.url}/v1/`);
      const recorder = recordingFetch();
      const client = new ChoreoAI({ fetch: recorder.fetch });
      assert.equal(client.apiKey, "sk-from-the-environment-0123");
      assert.equal(client.baseURL, `${gateway.url}/v1`);
      const completion = await client.chat.completions.create({
        model: "choreoai/echo",
        messages: [{ role: "user", content: "from env" }],
      });
      assert.equal(completion.choices[0]?.message.content, "from env");
      assert.equal(
        recorder.requests[0]?.headers.get("authorization"),
        "Bearer sk-from-the-environment-0123",
      );
    });
    await t.step("an option wins over its variable", () => {
      Deno.env.set("CHOREOAI_API_KEY", "sk-from-the-environment-0123");
      Deno.env.set("CHOREOAI_BASE_URL", "http://env.example:1/v1");
      const client = new ChoreoAI({ apiKey: "sk-option", baseURL: "https://gw.example/v1" });
      assert.equal(client.apiKey, "sk-option");
      assert.equal(client.baseURL, "https://gw.example/v1");
    });
    await t.step("no key anywhere: ChoreoAIError naming CHOREOAI_API_KEY", () => {
      Deno.env.delete("CHOREOAI_API_KEY");
      Deno.env.delete("CHOREOAI_BASE_URL");
      assert.throws(() => new ChoreoAI(), (error: unknown) => {
        assert.ok(error instanceof ChoreoAIError);
        assert.match(error.message, /CHOREOAI_API_KEY/);
        return true;
      });
      Deno.env.set("CHOREOAI_API_KEY", "   ");
      assert.throws(() => new ChoreoAI(), ChoreoAIError);
      assert.throws(() => new ChoreoAI({ apiKey: "" }), ChoreoAIError);
    });
    await t.step("no CHOREOAI_BASE_URL: http://localhost:8000/v1", () => {
      Deno.env.delete("CHOREOAI_BASE_URL");
      assert.equal(new ChoreoAI({ apiKey: "k" }).baseURL, "http://localhost:8000/v1");
    });
  } finally {
    restore("CHOREOAI_API_KEY", saved.key);
    restore("CHOREOAI_BASE_URL", saved.base);
  }
});

Deno.test("new ChoreoAI() refuses settings it cannot use", async (t) => {
  await t.step("a key that cannot travel in a header, without echoing it", () => {
    assert.throws(
      () => new ChoreoAI({ apiKey: "sk-secret\nvalue" }),
      (error: unknown) => {
        assert.ok(error instanceof ChoreoAIError);
        assert.doesNotMatch(error.message, /sk-secret/);
        return true;
      },
    );
  });
  await t.step("a base URL that is not http(s)", () => {
    assert.throws(() => new ChoreoAI({ apiKey: "k", baseURL: "ftp://x/v1" }), ChoreoAIError);
    assert.throws(() => new ChoreoAI({ apiKey: "k", baseURL: "not a url" }), ChoreoAIError);
  });
  await t.step("a timeout or retry count out of range", () => {
    assert.throws(() => new ChoreoAI({ apiKey: "k", timeout: 0 }), RangeError);
    assert.throws(() => new ChoreoAI({ apiKey: "k", timeout: Number.NaN }), RangeError);
    assert.throws(() => new ChoreoAI({ apiKey: "k", maxRetries: -1 }), RangeError);
    assert.throws(() => new ChoreoAI({ apiKey: "k", maxRetries: 1.5 }), RangeError);
  });
  await t.step("defaults", () => {
    const client = new ChoreoAI({ apiKey: "k", baseURL: "https://gw.example/v1///" });
    assert.equal(client.baseURL, "https://gw.example/v1");
    assert.equal(client.timeout, 600_000);
    assert.equal(client.maxRetries, 2);
  });
});

Deno.test("withOptions() copies the client with some settings changed", async () => {
  await using gateway = startGateway();
  const client = clientFor(gateway, { timeout: 5_000 });
  const copy = client.withOptions({ maxRetries: 0, timeout: undefined });
  assert.equal(copy.maxRetries, 0);
  assert.equal(copy.timeout, 5_000);
  assert.equal(copy.baseURL, client.baseURL);
  assert.equal(copy.apiKey, CLIENT_KEY);
  const completion = await copy.chat.completions.create({
    model: "choreoai/echo",
    messages: [{ role: "user", content: "copied" }],
  });
  assert.equal(completion.choices[0]?.message.content, "copied");
});
