/** `.env.example` documents every variable the gateway reads, and parses as a valid config. */
import assert from "node:assert/strict";
import { parseConfig, VARIABLE_NAMES } from "../src/config.ts";

function readExample(): Map<string, string> {
  const text = Deno.readTextFileSync(new URL("../.env.example", import.meta.url));
  const entries = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined) entries.set(match[1], match[2] ?? "");
  }
  return entries;
}

Deno.test(".env.example lists every variable and nothing else", () => {
  const names = [...readExample().keys()].sort();
  assert.deepEqual(names, [...VARIABLE_NAMES].sort());
});

Deno.test(".env.example, as shipped, is a valid development configuration", () => {
  const config = parseConfig(Object.fromEntries(readExample()));
  assert.equal(config.env, "development");
  assert.equal(config.port, 8000);
  assert.equal(config.keysFile, undefined);
});
