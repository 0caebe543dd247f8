import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import {
  type GeminiSchema,
  MAX_SCHEMA_DEPTH,
  toGeminiParameters,
  toGeminiSchema,
} from "../../../src/providers/gemini/schema.ts";

const OPTIONS = { param: "tools[0].function.parameters", subject: 'tool "t"' };

function clean(schema: unknown): GeminiSchema {
  const out = toGeminiSchema(schema, OPTIONS);
  if (out instanceof GatewayError) assert.fail(`unexpected error: ${out.message}`);
  return out;
}

function cleanError(schema: unknown): GatewayError {
  const out = toGeminiSchema(schema, OPTIONS);
  assert.ok(out instanceof GatewayError, "expected a GatewayError");
  assert.equal(out.status, 400);
  assert.equal(out.param, "tools[0].function.parameters");
  assert.match(out.message, /tool "t"/);
  return out;
}

Deno.test("toGeminiSchema() drops keys Gemini rejects", () => {
  assert.deepEqual(
    clean({
      $schema: "http://json-schema.org/draft-07/schema#",
      $id: "x",
      type: "object",
      title: "Args",
      strict: true,
      additionalProperties: false,
      examples: [{}],
      properties: {
        q: {
          type: "string",
          default: "x",
          title: "Q",
          examples: ["a"],
          minLength: 1,
          maxLength: 9,
          pattern: "^a",
        },
        n: { type: "number", exclusiveMinimum: 0, minimum: 1, maximum: 5 },
        tags: {
          type: "array",
          items: { type: "string" },
          uniqueItems: true,
          minItems: 1,
          maxItems: 3,
        },
      },
      required: ["q"],
    }),
    {
      type: "OBJECT",
      properties: {
        q: { type: "STRING", minLength: 1, maxLength: 9, pattern: "^a" },
        n: { type: "NUMBER", minimum: 1, maximum: 5 },
        tags: { type: "ARRAY", items: { type: "STRING" }, minItems: 1, maxItems: 3 },
      },
      required: ["q"],
    },
  );
});

Deno.test("toGeminiSchema() upper-cases types and keeps descriptions, enums and nullable", () => {
  assert.deepEqual(
    clean({ type: "string", description: "Unit", enum: ["c", "f"], nullable: true }),
    { type: "STRING", description: "Unit", nullable: true, enum: ["c", "f"] },
  );
  assert.deepEqual(clean({ type: "boolean" }), { type: "BOOLEAN" });
  assert.deepEqual(clean({ type: "integer", format: "int64" }), {
    type: "INTEGER",
    format: "int64",
  });
});

Deno.test("toGeminiSchema() drops formats Gemini does not know", () => {
  assert.deepEqual(clean({ type: "string", format: "uri" }), { type: "STRING" });
  assert.deepEqual(clean({ type: "string", format: "date-time" }), {
    type: "STRING",
    format: "date-time",
  });
});

Deno.test("toGeminiSchema() rewrites const as a one-value enum", async (t) => {
  await t.step("string", () => {
    assert.deepEqual(clean({ type: "string", const: "fixed" }), {
      type: "STRING",
      enum: ["fixed"],
    });
  });
  await t.step("without type", () => {
    assert.deepEqual(clean({ const: "fixed" }), { type: "STRING", enum: ["fixed"] });
  });
  await t.step("null", () => {
    assert.deepEqual(clean({ const: null }), { nullable: true });
  });
  await t.step("non-string enum values are dropped", () => {
    assert.deepEqual(clean({ type: "integer", enum: [1, 2] }), { type: "INTEGER" });
  });
});

Deno.test("toGeminiSchema() turns type lists into type + nullable or anyOf", async (t) => {
  await t.step('["string", "null"]', () => {
    assert.deepEqual(clean({ type: ["string", "null"] }), { type: "STRING", nullable: true });
  });
  await t.step('["string", "integer"]', () => {
    assert.deepEqual(clean({ type: ["string", "integer"], description: "id" }), {
      description: "id",
      anyOf: [{ type: "STRING" }, { type: "INTEGER" }],
    });
  });
});

Deno.test("toGeminiSchema() turns a null branch of anyOf/oneOf into nullable", async (t) => {
  await t.step("single branch left is inlined", () => {
    assert.deepEqual(
      clean({ anyOf: [{ type: "string" }, { type: "null" }], description: "d" }),
      { type: "STRING", description: "d", nullable: true },
    );
  });
  await t.step("oneOf becomes anyOf", () => {
    assert.deepEqual(clean({ oneOf: [{ type: "string" }, { type: "integer" }] }), {
      anyOf: [{ type: "STRING" }, { type: "INTEGER" }],
    });
  });
});

Deno.test("toGeminiSchema() inlines local $defs and definitions references", () => {
  assert.deepEqual(
    clean({
      type: "object",
      properties: {
        home: { $ref: "#/$defs/Address", description: "Home" },
        work: { $ref: "#/definitions/Address" },
      },
      $defs: { Address: { type: "object", properties: { city: { type: "string" } } } },
      definitions: { Address: { type: "object", properties: { zip: { type: "string" } } } },
    }),
    {
      type: "OBJECT",
      properties: {
        home: { type: "OBJECT", description: "Home", properties: { city: { type: "STRING" } } },
        work: { type: "OBJECT", properties: { zip: { type: "STRING" } } },
      },
    },
  );
});

Deno.test("toGeminiSchema() inlines a reference used twice (not recursion)", () => {
  const out = clean({
    type: "object",
    properties: { a: { $ref: "#/$defs/S" }, b: { $ref: "#/$defs/S" } },
    $defs: { S: { type: "string" } },
  });
  assert.deepEqual(out.properties, { a: { type: "STRING" }, b: { type: "STRING" } });
});

Deno.test("toGeminiSchema() refuses recursive, remote and dangling references", async (t) => {
  await t.step("recursive", () => {
    cleanError({
      $ref: "#/$defs/Node",
      $defs: { Node: { type: "object", properties: { next: { $ref: "#/$defs/Node" } } } },
    });
  });
  await t.step("remote", () => {
    cleanError({ type: "object", properties: { a: { $ref: "https://example.com/s.json" } } });
  });
  await t.step("dangling", () => {
    cleanError({ type: "object", properties: { a: { $ref: "#/$defs/Missing" } } });
  });
  await t.step("too deep", () => {
    let schema: Record<string, unknown> = { type: "string" };
    for (let i = 0; i <= MAX_SCHEMA_DEPTH; i++) schema = { type: "array", items: schema };
    cleanError(schema);
  });
});

Deno.test("toGeminiSchema() merges allOf", () => {
  assert.deepEqual(
    clean({
      allOf: [
        { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
        { properties: { b: { type: "number" } }, required: ["b"] },
      ],
    }),
    {
      type: "OBJECT",
      properties: { a: { type: "STRING" }, b: { type: "NUMBER" } },
      required: ["a", "b"],
    },
  );
});

Deno.test("toGeminiSchema() drops empty object properties and required names not in properties", () => {
  assert.deepEqual(
    clean({
      type: "object",
      properties: {
        meta: { type: "object", properties: {}, additionalProperties: { type: "string" } },
      },
      required: ["meta", "ghost"],
    }),
    { type: "OBJECT", properties: { meta: { type: "OBJECT" } }, required: ["meta"] },
  );
});

Deno.test("toGeminiSchema() infers missing types and gives arrays items", () => {
  assert.deepEqual(clean({ properties: { a: { type: "string" } } }), {
    type: "OBJECT",
    properties: { a: { type: "STRING" } },
  });
  assert.deepEqual(clean({ type: "array" }), { type: "ARRAY", items: { type: "STRING" } });
  assert.deepEqual(clean({ items: { type: "integer" } }), {
    type: "ARRAY",
    items: { type: "INTEGER" },
  });
});

Deno.test("toGeminiSchema() keeps a property named like a dropped keyword", () => {
  assert.deepEqual(
    clean({
      type: "object",
      properties: { title: { type: "string" }, default: { type: "boolean" } },
    }),
    { type: "OBJECT", properties: { title: { type: "STRING" }, default: { type: "BOOLEAN" } } },
  );
});

Deno.test("toGeminiSchema() does not modify its input", () => {
  const input = {
    type: "object",
    properties: { a: { type: ["string", "null"] } },
    additionalProperties: false,
  };
  const copy = structuredClone(input);
  clean(input);
  assert.deepEqual(input, copy);
});

Deno.test("toGeminiParameters() omits parameters for a parameterless tool", async (t) => {
  for (
    const [name, parameters] of [
      ["absent", undefined],
      ["null", null],
      ["empty properties", { type: "object", properties: {}, required: [] }],
      ["no properties", { type: "object", additionalProperties: false }],
      ["empty object", {}],
    ] as const
  ) {
    await t.step(name, () => {
      assert.equal(toGeminiParameters(parameters, OPTIONS), undefined);
    });
  }
  await t.step("non-object is a 400", () => {
    const out = toGeminiParameters("x", OPTIONS);
    assert.ok(out instanceof GatewayError);
    assert.equal(out.param, "tools[0].function.parameters");
  });
});
