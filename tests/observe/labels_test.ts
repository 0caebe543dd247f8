import assert from "node:assert/strict";
import {
  boundedLabel,
  codeLabel,
  dialectLabel,
  OTHER,
  statusClass,
} from "../../src/observe/labels.ts";
import { createUpstreamTimer, serverTiming, timed } from "../../src/observe/timer.ts";

Deno.test("boundedLabel() keeps the first values it is given, then answers other", () => {
  const label = boundedLabel(2);
  assert.equal(label.of("a"), "a");
  assert.equal(label.known("b"), OTHER, "known() adds nothing");
  assert.equal(label.of("b"), "b");
  assert.equal(label.of("c"), OTHER);
  assert.equal(label.of("a"), "a");
  assert.equal(label.known("b"), "b");
  assert.equal(label.size, 2);
});

Deno.test("label values of codes, statuses and dialects", async (t) => {
  const codes: Array<[string | undefined, string]> = [
    [undefined, ""],
    ["rate_limit_exceeded", "rate_limit_exceeded"],
    ["model_not_found", "model_not_found"],
    ["Some Provider Code", OTHER],
    ["x".repeat(60), OTHER],
    ["sk-secret-123", OTHER],
  ];
  for (const [code, label] of codes) {
    await t.step(`code ${code}`, () => assert.equal(codeLabel(code), label));
  }
  for (const [status, label] of [[200, "2xx"], [404, "4xx"], [429, "4xx"], [502, "5xx"]] as const) {
    await t.step(`status ${status}`, () => assert.equal(statusClass(status), label));
  }
  const dialects: Array<[string, string]> = [
    ["/v1/chat/completions", "openai"],
    ["/v1/embeddings", "openai"],
    ["/v1/messages", "messages"],
    ["/v1/messages/count_tokens", "messages"],
    ["/v1/responses", "responses"],
    ["/v1/responses/{id}/input_items", "responses"],
    [OTHER, "openai"],
  ];
  for (const [endpoint, dialect] of dialects) {
    await t.step(`dialect of ${endpoint}`, () => assert.equal(dialectLabel(endpoint), dialect));
  }
});

Deno.test("createUpstreamTimer() counts wall-clock time while any upstream call is open", async (t) => {
  let clock = 0;
  const timer = createUpstreamTimer(() => clock);
  await t.step("never waited: undefined", () => assert.equal(timer.ms(), undefined));
  await t.step("one wait", () => {
    timer.begin();
    clock = 10;
    assert.equal(timer.ms(), 10, "an open wait counts up to now");
    timer.end();
    clock = 15;
    assert.equal(timer.ms(), 10);
  });
  await t.step("two overlapping waits count once", () => {
    timer.begin(); // 15
    clock = 20;
    timer.begin();
    clock = 25;
    timer.end();
    clock = 30;
    timer.end(); // 15 more
    assert.equal(timer.ms(), 25);
  });
  await t.step("an unmatched end changes nothing", () => {
    timer.end();
    assert.equal(timer.ms(), 25);
  });
  await t.step("timed() ends the wait when the work throws", async () => {
    await assert.rejects(
      timed(timer, () => {
        clock = 40;
        return Promise.reject(new Error("down"));
      }),
      /down/,
    );
    clock = 100;
    assert.equal(timer.ms(), 35);
  });
});

Deno.test("serverTiming() writes gateway and, when a provider was called, upstream", async (t) => {
  const cases: Array<[number, number | undefined, string]> = [
    [0.4567, 12.3456, "gateway;dur=0.46, upstream;dur=12.35"],
    [3, undefined, "gateway;dur=3"],
    [-0.001, 5, "gateway;dur=0, upstream;dur=5"],
  ];
  for (const [gateway, upstream, header] of cases) {
    await t.step(header, () => assert.equal(serverTiming(gateway, upstream), header));
  }
});
