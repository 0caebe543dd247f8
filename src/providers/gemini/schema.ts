/**
 * JSON Schema → Gemini's `Schema`, the OpenAPI 3.0 subset `parameters` and `responseSchema`
 * accept (FACTS.md §4.1, T19, T28). Gemini rejects unknown keys with 400 `Unknown name "X"`, so
 * the output is rebuilt key by key:
 *
 * - Kept: `type` (upper-cased: `STRING`, `NUMBER`, `INTEGER`, `BOOLEAN`, `ARRAY`, `OBJECT`),
 *   `description`, `nullable`, `enum` (strings only), `items`, `properties`, `required` (only
 *   names in `properties`), `propertyOrdering`, `anyOf`, `minItems`, `maxItems`, `minLength`,
 *   `maxLength`, `minProperties`, `maxProperties`, `pattern`, `minimum`, `maximum`, and `format`
 *   where Gemini knows it (`date-time`/`enum` on strings, `float`/`double`, `int32`/`int64`).
 * - Dropped: `title`, `default`, `examples`, `example`, `additionalProperties`, `$schema`, `$id`,
 *   `$comment`, `strict`, `exclusiveMinimum`/`exclusiveMaximum`, `not`, `if`/`then`/`else`,
 *   `patternProperties`, `propertyNames`, `prefixItems`, `uniqueItems`, and anything else.
 * - Rewritten: `const` → `enum: [const]` (strings; `const: null` → `nullable`); a type list such
 *   as `["string", "null"]` → `type: "STRING", nullable: true` (several non-null types → `anyOf`);
 *   a `{type: "null"}` branch of `anyOf`/`oneOf` → `nullable` (a single branch left is inlined);
 *   `oneOf` → `anyOf`; `allOf` → merged into one schema; a missing `type` is inferred from
 *   `properties` (OBJECT), `items` (ARRAY) or `enum` (STRING); an ARRAY without `items` gets
 *   `items: {type: "STRING"}` (Gemini requires `items`); an OBJECT whose `properties` are empty
 *   loses `properties` and `required` (Gemini rejects empty ones).
 * - `$ref` to `#/$defs/…` or `#/definitions/…` of the root schema is inlined. A recursive
 *   reference, or one to anything else, is a 400 naming the schema's parameter.
 */
import { errors, GatewayError } from "../../errors.ts";

/** A Gemini `Schema` object (plain JSON). */
export type GeminiSchema = { [key: string]: unknown };

/** Where the schema comes from, for error messages. */
export interface GeminiSchemaOptions {
  /** The OpenAI parameter holding the schema, e.g. `tools[0].function.parameters`. */
  readonly param: string;
  /** What the schema describes, e.g. `tool "get_weather"`. */
  readonly subject: string;
}

/** Deeper schemas are refused: they are certainly not hand-written. */
export const MAX_SCHEMA_DEPTH = 64;

const TYPES: Readonly<Record<string, string>> = {
  string: "STRING",
  number: "NUMBER",
  integer: "INTEGER",
  boolean: "BOOLEAN",
  array: "ARRAY",
  object: "OBJECT",
};

const FORMATS: Readonly<Record<string, ReadonlySet<string>>> = {
  STRING: new Set(["date-time", "enum"]),
  NUMBER: new Set(["float", "double"]),
  INTEGER: new Set(["int32", "int64"]),
};

const COUNT_KEYS = [
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "minProperties",
  "maxProperties",
] as const;

type Json = Record<string, unknown>;

/** Raised inside the recursion, returned by the exported functions. */
class SchemaError extends Error {}

/**
 * Cleans a JSON Schema to Gemini's subset, or returns a 400 naming `options.param` for a schema
 * that cannot be expressed (recursive or non-local `$ref`, excessive depth). Pure; the input is
 * not modified.
 *
 * @example Usage
 * ```ts
 * import { toGeminiSchema } from "./schema.ts";
 * toGeminiSchema(
 *   { type: "object", properties: { unit: { type: ["string", "null"], const: "c" } },
 *     additionalProperties: false },
 *   { param: "tools[0].function.parameters", subject: 'tool "get_weather"' },
 * );
 * // { type: "OBJECT", properties: { unit: { type: "STRING", nullable: true, enum: ["c"] } } }
 * ```
 */
export function toGeminiSchema(
  jsonSchema: unknown,
  options: GeminiSchemaOptions,
): GeminiSchema | GatewayError {
  const root = isObject(jsonSchema) ? jsonSchema : {};
  try {
    return clean(jsonSchema, { root, refs: [], depth: 0 });
  } catch (error) {
    if (error instanceof SchemaError) {
      return errors.invalidRequest(
        `Invalid schema in '${options.param}' for ${options.subject} on Gemini models: ` +
          error.message,
        options.param,
      );
    }
    throw error;
  }
}

/**
 * A tool's `parameters` → a function declaration's `parameters`, or `undefined` for a
 * parameterless tool (no parameters, or an object schema with no properties): Gemini rejects an
 * OBJECT with empty `properties`, and omitting `parameters` is the documented form (T19).
 *
 * @example Usage
 * ```ts
 * import { toGeminiParameters } from "./schema.ts";
 * toGeminiParameters({ type: "object", properties: {} }, { param: "tools[0].function.parameters", subject: 'tool "now"' });
 * // undefined
 * ```
 */
export function toGeminiParameters(
  parameters: unknown,
  options: GeminiSchemaOptions,
): GeminiSchema | undefined | GatewayError {
  if (parameters === undefined || parameters === null) return undefined;
  if (!isObject(parameters)) {
    return errors.invalidRequest(
      `Invalid value for '${options.param}': must be a JSON Schema object`,
      options.param,
    );
  }
  const schema = toGeminiSchema(parameters, options);
  if (schema instanceof GatewayError) return schema;
  if (Object.keys(schema).length === 0) return undefined;
  if (schema.type === "OBJECT" && schema.properties === undefined) return undefined;
  return schema;
}

interface State {
  readonly root: Json;
  /** `$ref`s being resolved on the current path (to detect recursion). */
  readonly refs: readonly string[];
  readonly depth: number;
}

function clean(node: unknown, state: State): GeminiSchema {
  if (state.depth > MAX_SCHEMA_DEPTH) {
    throw new SchemaError(`nested deeper than ${MAX_SCHEMA_DEPTH} levels`);
  }
  if (!isObject(node)) return {};
  const deeper = { ...state, depth: state.depth + 1 };
  const ref = node.$ref;
  if (typeof ref === "string") {
    if (state.refs.includes(ref)) {
      throw new SchemaError(`recursive reference "${ref.slice(0, 200)}" cannot be inlined`);
    }
    const { $ref: _ref, ...siblings } = node;
    return clean({ ...resolveRef(ref, state.root), ...siblings }, {
      ...deeper,
      refs: [...state.refs, ref],
    });
  }
  if (Array.isArray(node.allOf)) {
    const { allOf, ...rest } = node;
    return clean(mergeAllOf(rest, allOf), deeper);
  }
  if (Array.isArray(node.type)) {
    const { type, ...rest } = node;
    const names = type.filter((name): name is string => typeof name === "string");
    const nullable = names.includes("null");
    const others = names.filter((name) => name !== "null");
    if (others.length <= 1) {
      const one = others[0];
      return clean(
        { ...rest, ...(one === undefined ? {} : { type: one }), ...nullFlag(nullable) },
        deeper,
      );
    }
    const { description } = rest;
    return {
      ...(typeof description === "string" ? { description } : {}),
      anyOf: others.map((name) => clean({ ...rest, type: name, description: undefined }, deeper)),
      ...nullFlag(nullable),
    };
  }
  const union = Array.isArray(node.anyOf) ? node.anyOf : node.oneOf;
  if (Array.isArray(union)) {
    const { anyOf: _anyOf, oneOf: _oneOf, ...rest } = node;
    const branches = union.filter((branch) => !isNullSchema(branch));
    const nullable = branches.length < union.length || rest.nullable === true;
    const only = branches[0];
    if (branches.length === 1 && isObject(only)) {
      return clean({ ...only, ...rest, ...nullFlag(nullable) }, deeper);
    }
    const out = cleanKeywords(rest, deeper);
    if (branches.length > 0) out.anyOf = branches.map((branch) => clean(branch, deeper));
    delete out.type;
    if (nullable) out.nullable = true;
    return out;
  }
  return cleanKeywords(node, deeper);
}

/** The keywords of a schema without `$ref`, `allOf`, type lists or unions. */
function cleanKeywords(node: Json, state: State): GeminiSchema {
  const out: GeminiSchema = {};
  let type = typeof node.type === "string" ? TYPES[node.type] : undefined;
  let nullable = node.nullable === true || node.type === "null";

  const values = "const" in node ? [node.const] : Array.isArray(node.enum) ? node.enum : undefined;
  let enumValues: string[] | undefined;
  if (values !== undefined) {
    if (values.includes(null)) nullable = true;
    const rest = values.filter((value) => value !== null);
    if (rest.length > 0 && rest.every((value) => typeof value === "string")) {
      enumValues = rest as string[];
    }
  }

  if (type === undefined) {
    if (isObject(node.properties)) type = "OBJECT";
    else if (node.items !== undefined) type = "ARRAY";
    else if (enumValues !== undefined) type = "STRING";
  }
  if (type !== undefined) out.type = type;
  if (typeof node.format === "string" && type !== undefined && FORMATS[type]?.has(node.format)) {
    out.format = node.format;
  }
  if (typeof node.description === "string") out.description = node.description;
  if (nullable) out.nullable = true;
  if (enumValues !== undefined && (type === undefined || type === "STRING")) {
    out.enum = enumValues;
  }

  if (type === "ARRAY" || (type === undefined && node.items !== undefined)) {
    const items = Array.isArray(node.items) ? node.items[0] : node.items;
    out.items = isObject(items) ? clean(items, state) : { type: "STRING" };
  }

  if (isObject(node.properties)) {
    const properties: Record<string, GeminiSchema> = {};
    for (const [name, value] of Object.entries(node.properties)) {
      properties[name] = clean(value, state);
    }
    const names = Object.keys(properties);
    if (names.length > 0) {
      out.properties = properties;
      if (Array.isArray(node.required)) {
        const required = node.required.filter(
          (name): name is string => typeof name === "string" && Object.hasOwn(properties, name),
        );
        if (required.length > 0) out.required = [...new Set(required)];
      }
      if (Array.isArray(node.propertyOrdering)) {
        const ordering = node.propertyOrdering.filter(
          (name): name is string => typeof name === "string" && Object.hasOwn(properties, name),
        );
        if (ordering.length > 0) out.propertyOrdering = ordering;
      }
    }
  }

  for (const key of COUNT_KEYS) {
    const value = node[key];
    if (typeof value === "number" && Number.isInteger(value) && value >= 0) out[key] = value;
  }
  if (typeof node.minimum === "number") out.minimum = node.minimum;
  if (typeof node.maximum === "number") out.maximum = node.maximum;
  if (typeof node.pattern === "string") out.pattern = node.pattern;
  return out;
}

/** Resolves `#/$defs/a` or `#/definitions/a` (JSON Pointer escapes honoured) in the root. */
function resolveRef(ref: string, root: Json): Json {
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (match === null) {
    throw new SchemaError(
      `reference "${ref.slice(0, 200)}" is not supported: only local #/$defs/... and ` +
        "#/definitions/... references are inlined",
    );
  }
  let current: unknown = root[match[1] ?? ""];
  for (const segment of (match[2] ?? "").split("/")) {
    const key = decodeURIComponent(segment).replaceAll("~1", "/").replaceAll("~0", "~");
    current = isObject(current) && Object.hasOwn(current, key) ? current[key] : undefined;
  }
  if (!isObject(current)) {
    throw new SchemaError(`reference "${ref.slice(0, 200)}" does not resolve`);
  }
  return current;
}

/** `allOf` → one schema: properties and required merged, other keys first-come. */
function mergeAllOf(base: Json, parts: readonly unknown[]): Json {
  const merged: Json = { ...base };
  for (const part of parts) {
    if (!isObject(part)) continue;
    for (const [key, value] of Object.entries(part)) {
      if (key === "properties" && isObject(value)) {
        merged.properties = { ...(isObject(merged.properties) ? merged.properties : {}), ...value };
      } else if (key === "required" && Array.isArray(value)) {
        merged.required = [...(Array.isArray(merged.required) ? merged.required : []), ...value];
      } else if (!(key in merged)) {
        merged[key] = value;
      }
    }
  }
  return merged;
}

function isNullSchema(value: unknown): boolean {
  return isObject(value) && value.type === "null" && Object.keys(value).length === 1;
}

function nullFlag(nullable: boolean): { nullable?: true } {
  return nullable ? { nullable: true } : {};
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
