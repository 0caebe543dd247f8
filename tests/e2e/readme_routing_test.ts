/**
 * The README's routing-file example is a working file: it is read from the README, validated, and
 * served with its provider addresses pointed at fake upstreams.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.ts";
import { buildRouting } from "../../src/routing/load.ts";
import { parseRoutingFile } from "../../src/routing/routing_file.ts";
import { openaiClient, startGateway } from "../_helpers/gateway.ts";
import { AZURE_KEY, startFakeAzure } from "../_helpers/fake_azure.ts";
import { ANTHROPIC_KEY, startFakeAnthropic } from "../_helpers/fake_anthropic.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";

const MARKER = "<!-- routing-example:";

/** The first ```json block after the marker in README.md. */
async function readmeExample(): Promise<string> {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const after = readme.slice(readme.indexOf(MARKER));
  const match = after.match(/```json\n([\s\S]*?)\n```/);
  assert.ok(readme.includes(MARKER) && match?.[1], "the README lost its routing example");
  return match[1];
}

const KEYS = {
  AZURE_EU_KEY: AZURE_KEY,
  GROQ_API_KEY: PROVIDER_KEY,
  OPENAI_API_KEY: PROVIDER_KEY,
  ANTHROPIC_API_KEY: ANTHROPIC_KEY,
  GEMINI_API_KEY: "AIza-example",
};

Deno.test("the README routing example parses and compiles with its keys set", async () => {
  const file = parseRoutingFile(await readmeExample());
  const routing = buildRouting(parseConfig(KEYS), file, KEYS);
  assert.deepEqual([...routing.models.keys()].sort(), ["claude", "embed", "gpt-4", "llama"]);
  const gpt4 = routing.models.get("gpt-4");
  assert.deepEqual(gpt4?.targets.map((t) => [t.key, t.weight]), [
    ["azure-eu/gpt4o-prod", 3],
    ["openai/gpt-4o", 1],
  ]);
  assert.deepEqual(gpt4?.fallbacks.map((f) => f.name), ["claude"]);
  assert.equal(gpt4?.retries, 2);
  assert.equal(gpt4?.deadlineMs, 90_000);
  assert.equal(routing.providers.get("local-vllm")?.streamUsage, false);
  assert.equal(routing.providers.get("local-vllm")?.apiKey, "");
  assert.deepEqual(routing.models.get("llama")?.targets[0]?.prices, {
    input_per_mtok: 0.05,
    output_per_mtok: 0.1,
  });
});

Deno.test("the README routing example serves every public name", async () => {
  await using azure = startFakeAzure({ deployments: ["gpt4o-prod"] });
  await using openai = startFakeOpenAI();
  await using vllm = startFakeOpenAI({ apiKey: "" });
  await using groq = startFakeOpenAI();
  await using anthropic = startFakeAnthropic();
  const example = JSON.parse(await readmeExample());
  example.providers["azure-eu"].endpoint = azure.endpoint;
  example.providers["local-vllm"].base_url = vllm.baseUrl;
  example.providers.groq.base_url = groq.baseUrl;
  await using gateway = startGateway({
    env: { ...KEYS, OPENAI_BASE_URL: openai.baseUrl, ANTHROPIC_BASE_URL: anthropic.baseUrl },
    routingFile: example,
  });
  const client = openaiClient(gateway);
  const servedBy = async (model: string) => {
    const { response } = await client.chat.completions
      .create({ model, messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    return response.headers.get("x-choreoai-provider");
  };
  assert.ok(["azure-eu", "openai"].includes(await servedBy("gpt-4") ?? ""));
  assert.equal(await servedBy("claude"), "anthropic");
  assert.equal(await servedBy("llama"), "local-vllm");
  assert.equal(await servedBy("groq/llama-3.3-70b-versatile"), "groq");
  assert.equal(groq.requests[0]?.headers.get("x-team"), "research");
  const embedded = await client.embeddings.create({ model: "embed", input: "hello" });
  assert.equal(embedded.data.length, 1);
  const ids = (await client.models.list()).data.map((m) => m.id);
  for (const name of ["gpt-4", "claude", "llama", "embed"]) assert.ok(ids.includes(name), name);
});
