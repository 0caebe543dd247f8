import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.ts";
import { parseResponsesRequest, toChatRequest } from "../../src/dialects/responses/mod.ts";
import { GatewayError } from "../../src/errors.ts";
import { buildRouting } from "../../src/routing/load.ts";
import { planRoute } from "../../src/routing/route.ts";
import { parseRoutingFile } from "../../src/routing/routing_file.ts";
import { responsesReservation, restrictToProvider } from "../../src/routes/responses.ts";
import { DEFAULT_COMPLETION_RESERVE, neverFits } from "../../src/routes/rate_limits.ts";
import { endpointScopeOf } from "../../src/routes/paths.ts";

function parsed(body: Record<string, unknown>) {
  const result = parseResponsesRequest({ model: "m", ...body });
  if (!result.ok) throw result.error;
  return result.request;
}

function routing() {
  const config = parseConfig({
    OPENAI_API_KEY: "sk-o",
    ANTHROPIC_API_KEY: "sk-a",
    AZURE_OPENAI_API_KEY: "az",
    AZURE_OPENAI_ENDPOINT: "https://eu.openai.azure.com",
  });
  const file = parseRoutingFile(JSON.stringify({
    models: {
      mixed: {
        targets: [
          { provider: "anthropic", model: "claude-sonnet-4-5" },
          { provider: "openai", model: "gpt-5" },
        ],
        fallbacks: ["claude"],
      },
      claude: { targets: [{ provider: "anthropic", model: "claude-sonnet-4-5" }] },
    },
  }));
  return buildRouting(config, file, {});
}

Deno.test("restrictToProvider() keeps the targets on the provider that keeps the response", async (t) => {
  const table = routing();
  const previous = { id: "resp_1", provider: "openai" };
  await t.step("a model with a target there", () => {
    const plan = planRoute("mixed", table);
    assert.ok(!(plan instanceof GatewayError));
    const narrowed = restrictToProvider(plan, previous, "mixed");
    assert.ok(!(narrowed instanceof GatewayError));
    assert.deepEqual(
      narrowed.chain.map((route) => route.targets.map((target) => target.key)),
      [["openai/gpt-5"]],
    );
  });
  for (const model of ["claude", "choreoai/echo"]) {
    await t.step(`${model}: 400 naming previous_response_id`, () => {
      const plan = planRoute(model, table);
      assert.ok(!(plan instanceof GatewayError));
      const refused = restrictToProvider(plan, previous, model);
      assert.ok(refused instanceof GatewayError);
      assert.equal(refused.status, 400);
      assert.equal(refused.param, "previous_response_id");
      assert.match(refused.message, /kept by the provider openai/);
    });
  }
});

Deno.test("responsesReservation() reserves the canonical prompt plus max_output_tokens", async (t) => {
  await t.step("translatable: the chat prompt estimate", () => {
    const request = parsed({ input: "Hello there", max_output_tokens: 50 });
    const canonical = toChatRequest(request);
    const reservation = responsesReservation(request, canonical);
    assert.ok(reservation.prompt > 0);
    assert.deepEqual(reservation.completion, {
      perChoice: 50,
      choices: 1,
      setBy: "max_output_tokens",
    });
  });
  await t.step("without max_output_tokens: the default reserve, named for Responses", () => {
    const request = parsed({ input: "Hi" });
    const reservation = responsesReservation(request, toChatRequest(request));
    assert.equal(reservation.completion?.perChoice, DEFAULT_COMPLETION_RESERVE);
    assert.equal(reservation.completion?.setBy, undefined);
    const refusal = neverFits("key_1", 100, { ...reservation, prompt: 10 });
    assert.match(refusal?.message ?? "", /set max_output_tokens to at most 90/);
  });
  await t.step("OpenAI-only (a built-in tool): an estimate of the input's JSON", () => {
    const request = parsed({ input: "x ".repeat(100), tools: [{ type: "web_search" }] });
    const canonical = toChatRequest(request);
    assert.ok(canonical instanceof GatewayError);
    const reservation = responsesReservation(request, canonical);
    assert.ok(reservation.prompt >= 100);
  });
});

Deno.test("endpointScopeOf() maps response, model and admin paths to their scope", async (t) => {
  const cases: [string, string][] = [
    ["/v1/responses", "/v1/responses"],
    ["/v1/responses/resp_1", "/v1/responses"],
    ["/v1/responses/resp_1/input_items", "/v1/responses"],
    ["/v1/models/gpt-4o", "/v1/models"],
    ["/v1/chat/completions", "/v1/chat/completions"],
    ["/v1/responsesx", "/v1/responsesx"],
    ["/metrics", "/metrics"],
    ["/admin", "/admin"],
    ["/admin/keys", "/admin"],
    ["/admin/keys/key_1", "/admin"],
    ["/adminx", "/adminx"],
  ];
  for (const [path, scope] of cases) {
    await t.step(path, () => assert.equal(endpointScopeOf(path), scope));
  }
});
