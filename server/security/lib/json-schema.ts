import fc from "fast-check";
import { z } from "zod";

/**
 * The subset of JSON Schema that `z.toJSONSchema` emits for our inputs. Security tests derive inputs from it instead
 * of hand-writing them, so a new field or procedure is covered without touching the tests.
 */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  default?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
}

export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, {
    io: "input",
    // A zod option (not a TypeScript any): schemas JSON Schema cannot express (transforms, custom refinements)
    // become "accept anything" here, and the fuzzer then throws arbitrary values at them — what we want.
    unrepresentable: "any",
    // tRPC carries Dates (superjson): mark them so generated inputs can hold one.
    override: (ctx) => {
      if (ctx.zodSchema._zod.def.type === "date") (ctx.jsonSchema as JsonSchema).format = JS_DATE;
    },
  }) as JsonSchema;
}

/** Format marker for a JavaScript Date (no JSON Schema equivalent). */
export const JS_DATE = "x-js-date";

/** Names of fields that refer to another row (or person) by id, slug or email: where tenancy is decided. */
export function isReferenceField(name: string): boolean {
  return (
    name === "id" ||
    name === "ids" ||
    /(Id|Ids)$/.test(name) ||
    ["agent", "user", "onBehalfOf", "token", "assignee", "cursor"].includes(name)
  );
}

/** Fills a reference slot: `name` is the field name, `many` whether it holds an array of references. */
export type ReferenceFiller = (name: string, many: boolean) => unknown;

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace(/^#\/\$defs\//, "");
  const target = root.$defs?.[name];
  if (!target) throw new Error(`Unresolvable $ref ${schema.$ref}`);
  return resolve(target, root);
}

function firstType(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") ?? schema.type[0] : schema.type;
}

const SAMPLE_BY_FORMAT: Record<string, string> = {
  email: "someone@example.test",
  "date-time": "2030-01-01T00:00:00.000Z",
  date: "2030-01-01",
  uri: "https://example.test/x",
  url: "https://example.test/x",
  uuid: "00000000-0000-4000-8000-000000000000",
};

function sampleString(schema: JsonSchema, fieldName = ""): string {
  if (/email/i.test(fieldName) && !schema.enum) return SAMPLE_BY_FORMAT.email!;
  if (schema.format && SAMPLE_BY_FORMAT[schema.format]) return SAMPLE_BY_FORMAT[schema.format]!;
  if (schema.pattern) {
    // A deterministic value that matches the pattern (fast-check builds it from the regex itself).
    const [value] = fc.sample(fc.stringMatching(new RegExp(schema.pattern)).filter((s) => fitsLength(s, schema)), { seed: 7, numRuns: 1 });
    if (value !== undefined) return value;
  }
  const min = schema.minLength ?? 1;
  const base = "sample-value";
  const padded = base.length >= min ? base : base.padEnd(min, "x");
  return schema.maxLength !== undefined ? padded.slice(0, Math.max(schema.maxLength, 0)) : padded;
}

function fitsLength(value: string, schema: JsonSchema): boolean {
  return value.length >= (schema.minLength ?? 0) && value.length <= (schema.maxLength ?? Number.MAX_SAFE_INTEGER);
}

function sampleNumber(schema: JsonSchema, integer: boolean): number {
  const low = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : undefined);
  const high = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : undefined);
  let value = low ?? (high !== undefined ? Math.min(high, 1) : 1);
  if (high !== undefined && value > high) value = high;
  return integer ? Math.ceil(value) : value;
}

/**
 * One schema-valid value, every optional field included (so every reference slot is exercised), reference fields
 * filled by `fill`. Schema-valid is best effort: cross-field rules (superRefine) may still refuse it, which the
 * callers treat as a refusal, never as success.
 */
export function sampleFromSchema(schema: JsonSchema, fill: ReferenceFiller, root: JsonSchema = schema, fieldName = ""): unknown {
  const node = resolve(schema, root);
  if (node.const !== undefined) return node.const;
  if (node.enum && node.enum.length > 0) return node.enum[0];
  const variants = node.anyOf ?? node.oneOf;
  if (variants && variants.length > 0) {
    const nonNull = variants.find((v) => resolve(v, root).type !== "null") ?? variants[0]!;
    return sampleFromSchema(nonNull, fill, root, fieldName);
  }
  if (node.allOf && node.allOf.length > 0) return sampleFromSchema(node.allOf[0]!, fill, root, fieldName);
  if (node.format === JS_DATE) return new Date("2030-01-01T00:00:00.000Z");
  const type = firstType(node);
  if (fieldName && isReferenceField(fieldName) && (type === "string" || type === "array" || type === undefined)) {
    if (type === "array") return fill(fieldName, true);
    if (type === "string" && node.pattern && !new RegExp(node.pattern).test(String(fill(fieldName, false)))) return sampleString(node, fieldName);
    return fill(fieldName, false);
  }
  switch (type) {
    case "object": {
      const result: Record<string, unknown> = {};
      for (const [key, property] of Object.entries(node.properties ?? {})) result[key] = sampleFromSchema(property, fill, root, key);
      return result;
    }
    case "array": {
      const count = Math.max(node.minItems ?? 0, node.items ? 1 : 0);
      return Array.from({ length: Math.min(count, node.maxItems ?? count) }, () => (node.items ? sampleFromSchema(node.items, fill, root) : "x"));
    }
    case "string":
      return sampleString(node, fieldName);
    case "integer":
      return sampleNumber(node, true);
    case "number":
      return sampleNumber(node, false);
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      // `{}`: anything goes (z.unknown / z.custom); an object is the most useful guess for an input.
      return node.default !== undefined ? node.default : {};
  }
}

/** Strings an attacker or a careless client sends. */
export const hostileString = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "\ud800",
    "\uffff",
    "🙂‍↔️",
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "$1",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "__proto__",
    "constructor",
    "toString",
    "NaN",
    "-1",
    "1e309",
    "9".repeat(400),
    "null",
    "undefined",
    "2030-02-30T25:61:00Z",
    "http://169.254.169.254/latest/meta-data",
    "file:///etc/passwd",
    "a".repeat(20_000),
    "é".repeat(3_000),
  ),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
);

const hostileNumber = fc.oneof(
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, -1, 0, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, 0.5, Number.MIN_VALUE),
  fc.double(),
  fc.integer(),
);

const pollutionKey = fc.constantFrom("__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "then");

/** Objects whose own keys are the ones prototype pollution abuses (JSON.parse makes `__proto__` an own key). */
const pollutedObject = fc
  .tuple(pollutionKey, fc.oneof(fc.constant({ polluted: true }), fc.string(), fc.constant(null)))
  .map(([key, value]) => JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`) as Record<string, unknown>);

const deepNesting = fc.integer({ min: 50, max: 1_000 }).map((depth) => {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i += 1) value = i % 2 ? [value] : { nested: value };
  return value;
});

/** Any value at all: wrong types, pollution keys, deep nesting, huge or odd numbers and strings. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.anything({ key: fc.oneof(fc.string(), pollutionKey), maxDepth: 3 }) },
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: pollutedObject },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, false, [], {}, [[]], [null]) },
);

/**
 * Values shaped by the schema (so they get past validation and reach the domain and the database), where any node
 * may be swapped for a hostile value, an optional field dropped or an unknown (pollution) key added.
 */
export function arbitraryFromSchema(schema: JsonSchema, fill: ReferenceFiller, root: JsonSchema = schema, fieldName = "", depth = 0): fc.Arbitrary<unknown> {
  const shaped = shapedArbitrary(schema, fill, root, fieldName, depth);
  return fc.oneof({ weight: 6, arbitrary: shaped }, { weight: 1, arbitrary: hostileValue });
}

function shapedArbitrary(schema: JsonSchema, fill: ReferenceFiller, root: JsonSchema, fieldName: string, depth: number): fc.Arbitrary<unknown> {
  const node = resolve(schema, root);
  if (depth > 6) return fc.constant(sampleFromSchema(node, fill, root, fieldName));
  if (node.const !== undefined) return fc.constant(node.const);
  if (node.enum && node.enum.length > 0) return fc.oneof(fc.constantFrom(...node.enum), fc.constantFrom(...node.enum.map((v) => (typeof v === "string" ? v.toLowerCase() : v))));
  const variants = node.anyOf ?? node.oneOf;
  if (variants && variants.length > 0) return fc.oneof(...variants.map((v) => arbitraryFromSchema(v, fill, root, fieldName, depth + 1)));
  if (node.allOf && node.allOf.length > 0) return arbitraryFromSchema(node.allOf[0]!, fill, root, fieldName, depth + 1);
  if (node.format === JS_DATE) return fc.oneof(fc.date(), fc.constant(new Date(Number.NaN)), fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15) }));
  const type = firstType(node);
  if (fieldName && isReferenceField(fieldName) && type !== "object") {
    const reference = fc.constant(fill(fieldName, type === "array"));
    const shapedString = type === "array" ? fc.array(fc.string(), { maxLength: 3 }) : fc.string({ minLength: 1, maxLength: 30 });
    return fc.oneof(reference, shapedString);
  }
  switch (type) {
    case "object": {
      const properties = Object.entries(node.properties ?? {});
      const record = fc.record(
        Object.fromEntries(properties.map(([key, property]) => [key, arbitraryFromSchema(property, fill, root, key, depth + 1)])),
        { requiredKeys: (node.required ?? []).filter((key) => node.properties?.[key]) },
      );
      if (properties.length === 0 && node.additionalProperties && typeof node.additionalProperties === "object") {
        return fc.dictionary(fc.oneof(fc.string({ maxLength: 20 }), pollutionKey), arbitraryFromSchema(node.additionalProperties, fill, root, "", depth + 1), { maxKeys: 5 });
      }
      return fc.tuple(record, fc.option(pollutedObject, { freq: 5 })).map(([value, extra]) => ({ ...extra, ...(value as Record<string, unknown>) }));
    }
    case "array": {
      const items = node.items ? arbitraryFromSchema(node.items, fill, root, "", depth + 1) : fc.anything({ maxDepth: 1 });
      return fc.array(items, { minLength: node.minItems ?? 0, maxLength: Math.min(node.maxItems ?? 5, 5) });
    }
    case "string": {
      const valid = fc.constant(sampleString(node));
      const bounded = fc.string({ minLength: node.minLength ?? 0, maxLength: Math.min(node.maxLength ?? 60, 60) });
      const atLimits = fc.constantFrom(
        "x".repeat(node.maxLength ?? 1_000),
        "x".repeat((node.maxLength ?? 1_000) + 1),
        "\u0000".repeat(Math.max(node.minLength ?? 1, 1)),
      );
      return fc.oneof(valid, bounded, atLimits, hostileString);
    }
    case "integer":
    case "number": {
      const min = node.minimum ?? -1e6;
      const max = node.maximum ?? 1e6;
      const inRange = type === "integer" ? fc.integer({ min: Math.max(Math.ceil(min), -(2 ** 31)), max: Math.min(Math.floor(max), 2 ** 31 - 1) }) : fc.double({ min, max, noNaN: true });
      return fc.oneof(inRange, fc.constantFrom(min - 1, max + 1, sampleNumber(node, type === "integer")), hostileNumber);
    }
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    default:
      return hostileValue;
  }
}
