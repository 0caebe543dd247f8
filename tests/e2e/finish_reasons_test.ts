/**
 * The access log's `finish_reasons`, in OpenAI's words whatever the dialect and the provider:
 * answers translated through the canonical form, answers passed through natively (Messages to
 * Anthropic, Responses to OpenAI), streams and not, and the echo model.
 */
import assert from "node:assert/strict";
import { ANTHROPIC_KEY, startFakeAnthropic } from "../_helpers/fake_anthropic.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { CLIENT_KEY, startGateway, waitFor } from "../_helpers/gateway.ts";

const HI = [{ role: "user", content: "Hi there, how are you today?" }];

Deno.test("the access log names how each answer finished", async (t) => {
  await using openai = startFakeOpenAI();
  await using anthropic = startFakeAnthropic();
  await using gateway = startGateway({
    env: {
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: openai.baseUrl,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
    },
  });
  const cases: [string, string, Record<string, unknown>, string[] | undefined][] = [];
  for (const stream of [false, true]) {
    const how = stream ? "stream" : "whole answer";
    cases.push(
      [`chat, OpenAI, ${how}`, "/v1/chat/completions", {
        model: "gpt-4o-mini",
        messages: HI,
        stream,
      }, ["stop"]],
      [`chat to Anthropic, translated, ${how}`, "/v1/chat/completions", {
        model: "anthropic/claude-sonnet-4-5",
        messages: HI,
        max_tokens: 100,
        stream,
      }, ["stop"]],
      [`Messages to Anthropic, passed through (end_turn), ${how}`, "/v1/messages", {
        model: "claude-sonnet-4-5",
        max_tokens: 100,
        messages: HI,
        stream,
      }, ["stop"]],
      [`Messages to OpenAI, translated, ${how}`, "/v1/messages", {
        model: "openai/gpt-4o-mini",
        max_tokens: 100,
        messages: HI,
        stream,
      }, ["stop"]],
      [`Responses to OpenAI, passed through, ${how}`, "/v1/responses", {
        model: "gpt-4o-mini",
        input: "Hi there, how are you today?",
        stream,
      }, ["stop"]],
      [`Responses to OpenAI cut by max_output_tokens, ${how}`, "/v1/responses", {
        model: "gpt-4o-mini",
        input: "Hi there, how are you today?",
        max_output_tokens: 1,
        stream,
      }, ["length"]],
      [`Responses to Anthropic, translated, ${how}`, "/v1/responses", {
        model: "anthropic/claude-sonnet-4-5",
        input: "Hi there, how are you today?",
        stream,
      }, ["stop"]],
      [`the echo model cut by max_tokens, two choices, ${how}`, "/v1/chat/completions", {
        model: "choreoai/echo",
        messages: HI,
        max_tokens: 1,
        n: 2,
        stream,
      }, ["length", "length"]],
    );
  }
  cases.push(
    [
      "embeddings: none",
      "/v1/embeddings",
      { model: "text-embedding-3-small", input: "Hi" },
      undefined,
    ],
    ["count_tokens: none", "/v1/messages/count_tokens", {
      model: "claude-sonnet-4-5",
      messages: HI,
    }, undefined],
  );
  for (const [name, path, body, expected] of cases) {
    await t.step(name, async () => {
      const response = await fetch(`${gateway.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      const id = response.headers.get("x-request-id");
      const line = () => gateway.logs.find((entry) => entry.request_id === id);
      await waitFor(() => line() !== undefined);
      assert.deepEqual(line()?.finish_reasons, expected);
    });
  }
});
