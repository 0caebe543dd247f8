import assert from "node:assert/strict";
import {
  decodeToolCallId,
  encodeToolCallId,
  MAX_TOOL_CALL_ID_LENGTH,
  mintToolCallId,
  THOUGHT_SIGNATURE_MARKER,
  toolCallIdFor,
} from "../../../src/providers/gemini/tool_ids.ts";

Deno.test("mintToolCallId() is deterministic in completion id, candidate and call", () => {
  const a = mintToolCallId("chatcmpl-abc", { candidate: 0, call: 1 });
  assert.equal(a, "call_abc_0_1");
  assert.equal(mintToolCallId("chatcmpl-abc", { candidate: 0, call: 1 }), a);
  const others = [
    mintToolCallId("chatcmpl-abd", { candidate: 0, call: 1 }),
    mintToolCallId("chatcmpl-abc", { candidate: 1, call: 1 }),
    mintToolCallId("chatcmpl-abc", { candidate: 0, call: 0 }),
  ];
  assert.equal(new Set([a, ...others]).size, 4);
  assert.equal(mintToolCallId("req-9", { candidate: 2, call: 3 }), "call_req-9_2_3");
});

Deno.test("encodeToolCallId() and decodeToolCallId() round-trip thought signatures", async (t) => {
  for (
    const signature of [
      "sig",
      "CiQBjz1rX+/abc==",
      "ünïcödé ✓",
      "a".repeat(1000),
      "has~ts~inside",
    ]
  ) {
    await t.step(signature.slice(0, 20), () => {
      const id = encodeToolCallId("call_x_0_0", signature);
      assert.ok(id.startsWith(`call_x_0_0${THOUGHT_SIGNATURE_MARKER}`));
      assert.match(id, /^[A-Za-z0-9_~-]+$/);
      assert.deepEqual(decodeToolCallId(id), { base: "call_x_0_0", signature });
    });
  }
});

Deno.test("encodeToolCallId() leaves the base alone without a signature", () => {
  assert.equal(encodeToolCallId("call_x_0_0"), "call_x_0_0");
  assert.equal(encodeToolCallId("call_x_0_0", null), "call_x_0_0");
  assert.equal(encodeToolCallId("call_x_0_0", ""), "call_x_0_0");
});

Deno.test("encodeToolCallId() drops a signature that would exceed the size cap", () => {
  const id = encodeToolCallId("call_x_0_0", "s".repeat(MAX_TOOL_CALL_ID_LENGTH));
  assert.equal(id, "call_x_0_0");
  const fits = encodeToolCallId("call_x_0_0", "s".repeat(3000));
  assert.ok(fits.length <= MAX_TOOL_CALL_ID_LENGTH);
  assert.notEqual(fits, "call_x_0_0");
});

Deno.test("decodeToolCallId() finds no signature in foreign or damaged ids", async (t) => {
  for (
    const [name, id] of [
      ["OpenAI id", "call_abc123"],
      ["Anthropic id", "toolu_01A09q90qw90lq917835lq9"],
      ["invalid base64url", "call_1~ts~***"],
      ["impossible length", "call_1~ts~a"],
      ["not UTF-8", `call_1~ts~${btoa("\xff\xfe").replace(/=+$/, "")}`],
      ["empty", "call_1~ts~"],
    ] as const
  ) {
    await t.step(name, () => {
      const decoded = decodeToolCallId(id);
      assert.equal(decoded.signature, undefined);
      assert.equal(decoded.base, id.split("~ts~")[0]);
    });
  }
});

Deno.test("toolCallIdFor() mints the id and carries the signature", () => {
  assert.equal(toolCallIdFor("chatcmpl-q", { candidate: 0, call: 2 }), "call_q_0_2");
  const id = toolCallIdFor("chatcmpl-q", { candidate: 1, call: 0, signature: "sig" });
  assert.equal(id, "call_q_1_0~ts~c2ln");
});
