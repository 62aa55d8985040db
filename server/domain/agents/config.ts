import { z } from "zod";

const DelayMs = z
  .number({ error: "must be a number of milliseconds." })
  .int("must be a whole number of milliseconds.")
  .min(0, "must be between 0 and 600000 (10 minutes).")
  .max(600_000, "must be between 0 and 600000 (10 minutes).")
  .optional();

/**
 * A regular expression over the run's input (case-insensitive): the turn is played only when it matches, and skipped
 * otherwise (one script serving several kinds of request, e.g. "remember …" versus a question).
 */
const OnlyIf = z
  .string({ error: "must be a regular expression." })
  .refine((source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  }, "must be a valid regular expression.")
  .optional();

/** A scripted model's turn: a tool call (args may use templates, see server/runtime/models/scripted.ts) or a final answer. */
export const ScriptToolTurnSchema = z.object({
  tool: z.string({ error: "must name the tool to call." }).min(1, "must name the tool to call."),
  args: z.record(z.string(), z.unknown(), { error: "must be an object of arguments." }).default({}),
  delayMs: DelayMs,
  say: z.string({ error: "must be text." }).optional(),
  /**
   * A regular expression over this turn's tool result: while it matches, the same turn is played again (with the
   * new result in scope), e.g. a draft resubmitted while a reviewer requests changes.
   */
  repeatWhile: z
    .string({ error: "must be a regular expression." })
    .refine((source) => {
      try {
        new RegExp(source);
        return true;
      } catch {
        return false;
      }
    }, "must be a valid regular expression.")
    .optional(),
  onlyIf: OnlyIf,
  /** More tool calls made in the same turn, side by side (as models do with parallel tool calls). */
  alsoCall: z
    .array(
      z.object({
        tool: z.string({ error: "must name the tool to call." }).min(1, "must name the tool to call."),
        args: z.record(z.string(), z.unknown(), { error: "must be an object of arguments." }).default({}),
      }),
      { error: "must be a list of { tool, args }." },
    )
    .max(10, "at most 10 extra calls per turn.")
    .optional(),
});

export const ScriptFinalTurnSchema = z.object({
  final: z.string({ error: "must be text: the agent's answer." }),
  /** Said instead of `final` when the last tool call failed (denied, rejected, errored): {{result}} is the error. */
  onToolError: z.string({ error: "must be text." }).optional(),
  onlyIf: OnlyIf,
  delayMs: DelayMs,
});

export const ScriptTurnSchema = z.union([ScriptToolTurnSchema, ScriptFinalTurnSchema]);

export const AgentLimitsSchema = z.object({
  /** Model calls per run. */
  maxSteps: z
    .number({ error: "Enter a number of steps." })
    .int("Use a whole number of steps.")
    .min(1, "Allow at least 1 step.")
    .max(500, "At most 500 steps per run.")
    .default(20),
  /** Micro-dollars; 0 = no per-run cap. */
  maxCostMicros: z
    .number({ error: "Enter an amount (0 for no cap)." })
    .int("Use whole micro-dollars.")
    .min(0, "The cost cap cannot be negative.")
    .max(1_000_000_000, "At most $1,000 per run.")
    .default(0),
  /** Wall-clock time from start to finish, waiting for people excluded. */
  timeoutMs: z
    .number({ error: "Enter a timeout." })
    .int("Use whole milliseconds.")
    .min(1_000, "The timeout must be at least 1 second.")
    .max(24 * 60 * 60 * 1000, "The timeout is at most 24 hours.")
    .default(10 * 60 * 1000),
});

export const MemorySettingsSchema = z.object({
  /** At run start, the top `recallTopK` memories relevant to the input are put into the context, with citations. */
  recallEnabled: z.boolean().default(true),
  recallTopK: z
    .number({ error: "Enter how many memories to recall." })
    .int("Use a whole number.")
    .min(0, "Recall 0 or more memories.")
    .max(50, "Recall at most 50 memories.")
    .default(5),
  /** The built-in `remember` and `recall` tools (both pass policy; `remember` is a write). */
  remember: z.boolean().default(false),
  /** The built-in `search_knowledge` tool over the org's knowledge collections. */
  knowledge: z.boolean().default(false),
});

export const DEFAULT_MEMORY_SETTINGS = { recallEnabled: true, recallTopK: 5, remember: false, knowledge: false } as const;

/** What AgentVersion.config holds. Immutable once written: editing an agent writes a new version. */
export const AgentVersionConfigSchema = z.object({
  limits: AgentLimitsSchema.default({ maxSteps: 20, maxCostMicros: 0, timeoutMs: 600_000 }),
  memory: MemorySettingsSchema.default(DEFAULT_MEMORY_SETTINGS),
  /** Required when the model (or the fallback) is SCRIPTED. */
  script: z.array(ScriptTurnSchema).optional(),
  /**
   * The tools granted when this version was saved, as "server/tool", sorted. A record for people (version diffs):
   * what a run may call is decided by the agent's ToolGrant rows and policy, never by this list.
   */
  toolNames: z.array(z.string()).default([]),
  /** The built-in `submit_draft` tool: the agent hands work products to the inbox for a person to review. */
  submitDrafts: z.boolean().default(false),
  /** Agents this one may delegate to, each offered to the model as a `delegate_to_<slug>` tool (agent ids). */
  delegateAgentIds: z.array(z.string()).default([]),
});

export type AgentVersionConfig = z.infer<typeof AgentVersionConfigSchema>;
export type AgentVersionConfigInput = z.input<typeof AgentVersionConfigSchema>;
export type AgentLimits = z.infer<typeof AgentLimitsSchema>;
export type MemorySettings = z.infer<typeof MemorySettingsSchema>;
export type ScriptTurn = z.infer<typeof ScriptTurnSchema>;

export function parseAgentVersionConfig(raw: unknown): AgentVersionConfig {
  return AgentVersionConfigSchema.parse(raw ?? {});
}
