import type { Prisma } from "@/server/generated/prisma/client";
import { canonicalJson } from "../canonical";
import { AgentVersionConfigSchema, type AgentVersionConfig } from "./config";

/**
 * A stored version's config for display and comparison. Versions written before a field existed parse with its
 * default; a row that no longer parses at all (hand-edited) reads as the defaults with `readable: false`, so pages
 * still open. The runtime uses `parseAgentVersionConfig`, which refuses such a row instead.
 */
export function readStoredConfig(raw: unknown): { config: AgentVersionConfig; readable: boolean } {
  const parsed = AgentVersionConfigSchema.safeParse(raw ?? {});
  if (parsed.success) return { config: parsed.data, readable: true };
  return { config: AgentVersionConfigSchema.parse({}), readable: false };
}

/** The JSON written to AgentVersion.config: no undefined keys, so equal configs serialise identically. */
export function storableConfig(config: AgentVersionConfig): AgentVersionConfig {
  const { script, ...rest } = config;
  return script && script.length > 0 ? { ...rest, script } : rest;
}

/** The config as a Prisma JSON value (a JSON round trip: validated script args are plain JSON already). */
export function configJson(config: AgentVersionConfig): Prisma.InputJsonValue {
  return JSON.parse(JSON.stringify(storableConfig(config))) as Prisma.InputJsonValue;
}

/** Pretty JSON with sorted keys: stable line-by-line, so diffs show real changes only. */
export function prettyJson(value: unknown): string {
  if (value === undefined) return "";
  return JSON.stringify(JSON.parse(canonicalJson(value)), null, 2);
}

/**
 * A script as people read and edit it: one turn per line. Diffs then show which turns changed. JSON.stringify
 * escapes newlines inside strings, so every newline it emits is formatting and can be folded into a space.
 */
export function formatScript(script: readonly unknown[] | undefined): string {
  if (!script || script.length === 0) return "";
  const turns = script.map((turn) => "  " + JSON.stringify(turn, null, 1).replace(/\n\s*/g, " "));
  return `[\n${turns.join(",\n")}\n]`;
}
