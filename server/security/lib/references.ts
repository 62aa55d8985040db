import { isReferenceField, sampleFromSchema, type JsonSchema, type ReferenceFiller } from "./json-schema";
import { serialize } from "./snapshot";

/** One kind of reference of the victim org: a table's row id, an agent slug, a person's email. */
export interface ReferenceKind {
  name: string;
  value: string;
}

const snake = (camel: string) => camel.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

/**
 * The table a reference field most likely points at, from its name alone: agentId → agents, toolIds → tools,
 * onBehalfOfUserId → users, fallbackModelConfigId → model_configs. Undefined for plain `id`.
 */
export function tableForField(field: string, tables: readonly string[]): string | undefined {
  const stem = field.replace(/(Ids|Id)$/, "");
  if (!stem || stem === field && !["agent", "user", "onBehalfOf", "assignee"].includes(field)) return undefined;
  const aliases: Record<string, string> = { onBehalfOf: "users", assignee: "users", item: "inbox_items" };
  const words = snake(stem).split("_");
  for (let start = 0; start < words.length; start += 1) {
    const candidate = `${words.slice(start).join("_")}s`;
    if (tables.includes(candidate)) return candidate;
  }
  const last = words[words.length - 1] ?? "";
  return aliases[stem] ?? aliases[last];
}

/**
 * Inputs for one procedure or endpoint that point at the victim's rows. For every reference kind: one input with
 * every reference slot holding that kind ("uniform"), and one where slots whose name says what they point at get
 * that table's id and the rest get the kind ("matched"). Cross-field rules (scope AGENT needs agentId, only AGENT
 * names an agent, …) are met by also varying the first enum field and keeping one optional reference at a time.
 */
export function referenceInputs(schema: JsonSchema, kinds: readonly ReferenceKind[], firstIdOf: (table: string) => string | undefined, tables: readonly string[]): unknown[] {
  const [everyReference, ...otherShapes] = shapeVariants(schema);
  const inputs = new Map<string, unknown>();
  const add = (shape: JsonSchema, fill: ReferenceFiller) => {
    const value = sampleFromSchema(shape, fill);
    inputs.set(serialize(value), value);
  };
  const matched =
    (fallback: string): ReferenceFiller =>
    (field, many) => {
      const table = tableForField(field, tables);
      const value = (table && firstIdOf(table)) ?? fallback;
      return many ? [value] : value;
    };
  // Slots whose name says what they point at get that table's ids; slots that do not (`id`, `cursor`, `targetId`)
  // get every kind of id in turn.
  const slots: string[] = [];
  sampleFromSchema(everyReference!, (field) => slots.push(field));
  const unmatched = slots.filter((field) => !tableForField(field, tables));
  const sweep = unmatched.length > 0 ? kinds : kinds.slice(0, 1);
  for (const kind of sweep) {
    add(everyReference!, (_field, many) => (many ? [kind.value] : kind.value));
    add(everyReference!, matched(kind.value));
  }
  // …and each other shape (enum value × one optional reference at a time) with the references its names imply.
  for (const shape of otherShapes) add(shape, matched(kinds[0]?.value ?? "x"));
  return [...inputs.values()];
}

/** Which optional fields a shape keeps: some of the optional references (all other fields kept), or only the required fields. */
type Kept = { references: string[] } | "required only";

/**
 * Variants of an object schema: each value of its first enum field × (all optional references, each one alone,
 * none, only the required fields).
 */
function shapeVariants(schema: JsonSchema): JsonSchema[] {
  if (schema.type !== "object" || !schema.properties) return [schema];
  const properties = schema.properties;
  const required = new Set(schema.required ?? []);
  const optionalReferences = Object.keys(properties).filter((key) => !required.has(key) && isReferenceField(key));
  const kepts: Kept[] = [{ references: optionalReferences }, ...optionalReferences.map((key) => ({ references: [key] }))];
  if (optionalReferences.length > 0) kepts.push({ references: [] });
  kepts.push("required only");
  const enumField = Object.entries(properties).find(([, property]) => Array.isArray(property.enum) && property.enum.length > 1);
  const enumValues = enumField ? (enumField[1].enum ?? []) : [undefined];
  const keeps = (kept: Kept, key: string) =>
    kept === "required only" ? required.has(key) || key === enumField?.[0] : !optionalReferences.includes(key) || kept.references.includes(key);
  const variants: JsonSchema[] = [];
  for (const kept of kepts) {
    for (const enumValue of enumValues) {
      const chosen = Object.entries(properties)
        .filter(([key]) => keeps(kept, key))
        .map(([key, property]) => [key, enumField && key === enumField[0] ? { const: enumValue } : property]);
      variants.push({ ...schema, properties: Object.fromEntries(chosen) as Record<string, JsonSchema> });
    }
  }
  return variants;
}
