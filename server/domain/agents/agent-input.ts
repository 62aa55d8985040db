import { z } from "zod";
import type { FieldErrors } from "../errors";
import {
  AgentLimitsSchema,
  DEFAULT_MEMORY_SETTINGS,
  MemorySettingsSchema,
  ScriptFinalTurnSchema,
  ScriptToolTurnSchema,
  type ScriptTurn,
} from "./config";

export const AGENT_SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_INSTRUCTIONS = 50_000;
const MAX_SCRIPT_TURNS = 200;

/** A script as people write it (JSON text in the console) or as code passes it (an array of turns). */
export type ScriptInput = string | readonly unknown[] | null | undefined;

/** The editable part of a version's config; `toolNames` is derived from the grants, never taken from input. */
const EditableConfig = z.object({
  limits: AgentLimitsSchema.default({ maxSteps: 20, maxCostMicros: 0, timeoutMs: 600_000 }),
  memory: MemorySettingsSchema.default(DEFAULT_MEMORY_SETTINGS),
  /** Validated turn by turn in `parseScript`, so messages can name the turn. */
  script: z.custom<ScriptInput>().optional(),
  submitDrafts: z.boolean({ error: "Choose whether the agent may submit drafts." }).default(false),
  delegateAgentIds: z
    .array(z.string().min(1), { error: "Choose agents from the list." })
    .max(20, "An agent may delegate to at most 20 agents.")
    .default([]),
});

const AgentFields = z.object({
  name: z.string({ error: "Give the agent a name." }).trim().min(1, "Give the agent a name.").max(100, "Keep the name under 100 characters."),
  slug: z
    .string({ error: "Choose a slug." })
    .trim()
    .min(1, "Choose a slug: it names the agent in URLs and the API.")
    .max(64, "Keep the slug under 64 characters.")
    .regex(AGENT_SLUG_PATTERN, "Use lowercase letters, digits and single hyphens, e.g. “support-triage”."),
  description: z.string().trim().max(500, "Keep the description under 500 characters.").default(""),
  instructions: z
    .string({ error: "Write the agent's instructions." })
    .max(MAX_INSTRUCTIONS, `Instructions are limited to ${MAX_INSTRUCTIONS.toLocaleString("en-US")} characters.`)
    .refine((text) => text.trim().length > 0, "Write the agent's instructions: the system prompt every run starts from."),
  modelConfigId: z.string({ error: "Choose a model." }).min(1, "Choose a model."),
  /** null or "" = no fallback. */
  fallbackModelConfigId: z.string().nullish(),
  config: EditableConfig.default({
    limits: { maxSteps: 20, maxCostMicros: 0, timeoutMs: 600_000 },
    memory: DEFAULT_MEMORY_SETTINGS,
    submitDrafts: false,
    delegateAgentIds: [],
  }),
  /** Tools granted to the agent; replaces the current grants on every save. */
  toolIds: z.array(z.string().min(1), { error: "Choose tools from the list." }).max(500, "At most 500 tools per agent.").default([]),
});

export const CreateAgentInput = AgentFields;
export type CreateAgentInput = z.input<typeof CreateAgentInput>;

export const UpdateAgentInput = AgentFields.extend({
  agentId: z.string().min(1),
  /** The version number the editor loaded (0 for an agent without versions): the save's compare-and-set. */
  expectedVersion: z.number().int().min(0),
});
export type UpdateAgentInput = z.input<typeof UpdateAgentInput>;

export type ParsedAgentInput = z.output<typeof AgentFields>;

/**
 * Validates a scripted model's script and reports problems per turn ("Turn 2: …"). Returns the turns, or
 * undefined for an empty script; `errors` collects messages for the `config.script` field.
 */
export function parseScript(raw: ScriptInput, errors: string[]): ScriptTurn[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  let value: unknown = raw;
  if (typeof raw === "string") {
    if (raw.trim() === "") return undefined;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      errors.push(`The script is not valid JSON: ${error instanceof Error ? error.message : "syntax error"}.`);
      return undefined;
    }
  }
  if (!Array.isArray(value)) {
    errors.push('The script must be a JSON array of turns, e.g. [{ "tool": "search", "args": { "q": "…" } }, { "final": "Done." }].');
    return undefined;
  }
  if (value.length === 0) return undefined;
  if (value.length > MAX_SCRIPT_TURNS) {
    errors.push(`A script has at most ${MAX_SCRIPT_TURNS} turns; this one has ${value.length}.`);
    return undefined;
  }
  const turns: ScriptTurn[] = [];
  value.forEach((turn: unknown, index) => {
    const label = `Turn ${index + 1}`;
    if (typeof turn !== "object" || turn === null || Array.isArray(turn)) {
      errors.push(`${label}: must be an object with "tool" (a tool call) or "final" (the answer).`);
      return;
    }
    const hasTool = "tool" in turn;
    const hasFinal = "final" in turn;
    if (hasTool && hasFinal) {
      errors.push(`${label}: has both "tool" and "final"; a turn either calls a tool or answers.`);
      return;
    }
    if (!hasTool && !hasFinal) {
      const keys = Object.keys(turn);
      const found = keys.length > 0 ? `; found ${keys.map((k) => `"${k}"`).join(", ")}` : "";
      errors.push(`${label}: needs "tool" (a tool call) or "final" (the answer)${found}.`);
      return;
    }
    const schema = hasTool ? ScriptToolTurnSchema.strict() : ScriptFinalTurnSchema.strict();
    const parsed = schema.safeParse(turn);
    if (parsed.success) {
      turns.push(parsed.data);
      return;
    }
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys") {
        const allowed = hasTool ? '"tool", "args", "say", "repeatWhile", "alsoCall" and "delayMs"' : '"final" and "delayMs"';
        errors.push(`${label}: unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")} (a ${hasTool ? "tool" : "final"} turn has ${allowed}).`);
      } else {
        const where = issue.path.length > 0 ? `"${issue.path.join(".")}" ` : "";
        errors.push(`${label}: ${where}${issue.message}`);
      }
    }
  });
  return errors.length > 0 ? undefined : turns;
}

export function addFieldError(errors: FieldErrors, field: string, message: string): void {
  (errors[field] ??= []).push(message);
}
