import { z } from "zod";
import { inTransaction, type DbOrTx, type Tx } from "@/server/db";
import { appendAudit } from "../audit/audit-log";
import { Conflict, InvalidInput, NotFound } from "../errors";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { encryptSecret } from "../secrets/crypto";
import { MODEL_PROVIDERS } from "./endpoint";
import { isUniqueViolation, parseInput } from "./validation";

/** Where Ollama listens by default; an OLLAMA config saved without a base URL gets this one. */
export const OLLAMA_DEFAULT_BASE_URL = "http://127.0.0.1:11434";
/** $1,000 per million tokens: far above any real price, well inside the Int column. */
const MAX_PRICE_MICROS = 1_000_000_000;

const priceMicros = (which: string) =>
  z
    .number({ error: `Enter the ${which} price (0 if free).` })
    .int("Prices are stored in whole micro-dollars.")
    .min(0, "A price cannot be negative.")
    .max(MAX_PRICE_MICROS, "At most $1,000 per million tokens.")
    .default(0);

const ModelConfigFields = z.object({
  name: z
    .string({ error: "Give the model a name." })
    .trim()
    .min(1, "Give the model a name.")
    .max(60, "Keep the name under 60 characters."),
  provider: z.enum(MODEL_PROVIDERS, { error: "Choose a provider." }),
  model: z
    .string({ error: "Enter the provider's model id." })
    .trim()
    .min(1, "Enter the provider's model id, e.g. “gpt-4o-mini”.")
    .max(200, "Keep the model id under 200 characters."),
  /** Empty means the provider's default (OPENAI, ANTHROPIC) or http://127.0.0.1:11434 (OLLAMA). */
  baseUrl: z.string().trim().max(500, "Keep the URL under 500 characters.").nullish(),
  /** Write-only. On update, empty or absent keeps the stored key (see `clearApiKey`). */
  apiKey: z.string().trim().max(4000, "That is too long for an API key.").optional(),
  /** Micro-dollars per million tokens: $3.00 / 1M tokens = 3_000_000. */
  inputPriceMicros: priceMicros("input"),
  outputPriceMicros: priceMicros("output"),
  contextWindow: z
    .number({ error: "Enter the context window in tokens." })
    .int("Use a whole number of tokens.")
    .min(256, "The context window is at least 256 tokens.")
    .max(10_000_000, "The context window is at most 10,000,000 tokens.")
    .default(8192),
  maxOutputTokens: z
    .number({ error: "Enter a number of tokens, or leave it empty." })
    .int("Use a whole number of tokens.")
    .min(1, "Allow at least 1 output token.")
    .max(1_000_000, "At most 1,000,000 output tokens.")
    .nullish(),
  timeoutMs: z
    .number({ error: "Enter a timeout." })
    .int("Use whole milliseconds.")
    .min(1_000, "The timeout must be at least 1 second.")
    .max(600_000, "The timeout is at most 10 minutes.")
    .default(60_000),
  maxRetries: z
    .number({ error: "Enter a number of retries." })
    .int("Use a whole number of retries.")
    .min(0, "Retries cannot be negative.")
    .max(10, "At most 10 retries.")
    .default(2),
});

function checkProviderFields(value: { provider: string; baseUrl?: string | null; apiKey?: string }, ctx: z.RefinementCtx) {
  const url = value.baseUrl?.trim();
  if (value.provider === "SCRIPTED") {
    if (url) ctx.addIssue({ code: "custom", path: ["baseUrl"], message: "The scripted model runs inside Switchboard: leave the base URL empty." });
    if (value.apiKey) ctx.addIssue({ code: "custom", path: ["apiKey"], message: "The scripted model needs no API key." });
    return;
  }
  if (!url) return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    ctx.addIssue({ code: "custom", path: ["baseUrl"], message: "Enter a full URL, e.g. http://127.0.0.1:11434." });
    return;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    ctx.addIssue({ code: "custom", path: ["baseUrl"], message: "Use an http:// or https:// URL." });
  } else if (parsed.username || parsed.password) {
    ctx.addIssue({ code: "custom", path: ["baseUrl"], message: "Put credentials in the API key field, not in the URL." });
  }
}

export const CreateModelConfigInput = ModelConfigFields.superRefine(checkProviderFields);
export type CreateModelConfigInput = z.input<typeof CreateModelConfigInput>;

export const UpdateModelConfigInput = ModelConfigFields.extend({
  id: z.string().min(1),
  /** Removes the stored API key (ignored when a new `apiKey` is given). */
  clearApiKey: z.boolean().default(false),
}).superRefine(checkProviderFields);
export type UpdateModelConfigInput = z.input<typeof UpdateModelConfigInput>;

const modelConfigSelect = {
  id: true,
  name: true,
  provider: true,
  model: true,
  baseUrl: true,
  secretId: true,
  inputPriceMicros: true,
  outputPriceMicros: true,
  contextWindow: true,
  maxOutputTokens: true,
  timeoutMs: true,
  maxRetries: true,
  createdAt: true,
  updatedAt: true,
  _count: { select: { versions: true, fallbackVersions: true } },
} as const;

type ModelConfigRow = Awaited<ReturnType<typeof readModelConfigs>>[number];

function readModelConfigs(db: DbOrTx, orgId: string, id?: string) {
  return db.modelConfig.findMany({ where: { orgId, ...(id ? { id } : {}) }, select: modelConfigSelect, orderBy: { name: "asc" } });
}

/** The public view of a model config: the API key itself never leaves the server, only whether there is one. */
function present(row: ModelConfigRow) {
  const { secretId, _count, ...rest } = row;
  return { ...rest, hasApiKey: secretId !== null, usedByVersions: _count.versions + _count.fallbackVersions };
}
export type ModelConfigView = ReturnType<typeof present>;

export async function listModelConfigs(db: DbOrTx, principal: Principal): Promise<ModelConfigView[]> {
  requireScope(principal, "agents:read");
  return (await readModelConfigs(db, principal.orgId)).map(present);
}

export async function getModelConfig(db: DbOrTx, principal: Principal, id: string): Promise<ModelConfigView> {
  requireScope(principal, "agents:read");
  const [row] = await readModelConfigs(db, principal.orgId, id);
  if (!row) throw new NotFound("Model");
  return present(row);
}

export function apiKeySecretName(modelName: string): string {
  return `model-${modelName}-api-key`;
}

function normaliseBaseUrl(provider: string, baseUrl: string | null | undefined): string | null {
  const url = baseUrl?.trim();
  if (url) return url.replace(/\/+$/, "");
  return provider === "OLLAMA" ? OLLAMA_DEFAULT_BASE_URL : null;
}

const nameTaken = (name: string) =>
  new InvalidInput(`A model named “${name}” already exists.`, { name: ["Another model already has this name."] });

async function assertNameFree(tx: Tx, orgId: string, name: string, exceptId?: string) {
  const clash = await tx.modelConfig.findFirst({ where: { orgId, name, ...(exceptId ? { id: { not: exceptId } } : {}) }, select: { id: true } });
  if (clash) throw nameTaken(name);
}

/** The key's Secret is named after the model; a Secret someone else created under that name is never overwritten. */
async function assertSecretNameFree(tx: Tx, orgId: string, secretName: string, exceptSecretId: string | null) {
  const clash = await tx.secret.findFirst({ where: { orgId, name: secretName }, select: { id: true } });
  if (clash && clash.id !== exceptSecretId) {
    throw new InvalidInput(`A secret named “${secretName}” already exists.`, {
      name: [`A secret named “${secretName}” already exists; choose another model name.`],
    });
  }
}

/** The stored columns of a model config, the same for create and update. */
function columnsOf(input: z.output<typeof ModelConfigFields>, secretId: string | null) {
  return {
    name: input.name,
    provider: input.provider,
    model: input.model,
    baseUrl: normaliseBaseUrl(input.provider, input.baseUrl),
    secretId,
    inputPriceMicros: input.inputPriceMicros,
    outputPriceMicros: input.outputPriceMicros,
    contextWindow: input.contextWindow,
    maxOutputTokens: input.maxOutputTokens ?? null,
    timeoutMs: input.timeoutMs,
    maxRetries: input.maxRetries,
  };
}

export async function createModelConfig(
  db: DbOrTx,
  principal: Principal,
  raw: CreateModelConfigInput,
  encryptionKey: Buffer,
): Promise<ModelConfigView> {
  requireScope(principal, "models:manage");
  const input = parseInput(CreateModelConfigInput, raw);
  const { orgId } = principal;
  try {
    return await inTransaction(db, async (tx) => {
      await assertNameFree(tx, orgId, input.name);
      let secretId: string | null = null;
      if (input.apiKey) {
        const secretName = apiKeySecretName(input.name);
        await assertSecretNameFree(tx, orgId, secretName, null);
        const secret = await tx.secret.create({
          data: { orgId, name: secretName, ...encryptSecret(input.apiKey, encryptionKey) },
          select: { id: true },
        });
        secretId = secret.id;
      }
      const created = await tx.modelConfig.create({
        data: { orgId, ...columnsOf(input, secretId) },
        select: { id: true },
      });
      await appendAudit(tx, {
        orgId,
        action: "model.created",
        ...actorOf(principal),
        targetType: "ModelConfig",
        targetId: created.id,
        data: { name: input.name, provider: input.provider, model: input.model, apiKey: secretId ? "set" : "none" },
      });
      const [row] = await readModelConfigs(tx, orgId, created.id);
      return present(row!);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(input.name);
    throw error;
  }
}

export async function updateModelConfig(
  db: DbOrTx,
  principal: Principal,
  raw: UpdateModelConfigInput,
  encryptionKey: Buffer,
): Promise<ModelConfigView> {
  requireScope(principal, "models:manage");
  const input = parseInput(UpdateModelConfigInput, raw);
  const { orgId } = principal;
  try {
    return await inTransaction(db, async (tx) => {
      const existing = await tx.modelConfig.findFirst({ where: { id: input.id, orgId } });
      if (!existing) throw new NotFound("Model");
      if (input.name !== existing.name) await assertNameFree(tx, orgId, input.name, existing.id);

      let secretId = existing.secretId;
      let apiKeyChange: "set" | "replaced" | "removed" | "unchanged" = "unchanged";
      const secretName = apiKeySecretName(input.name);
      if (input.apiKey) {
        await assertSecretNameFree(tx, orgId, secretName, secretId);
        const encrypted = encryptSecret(input.apiKey, encryptionKey);
        if (secretId) {
          await tx.secret.updateMany({ where: { id: secretId, orgId }, data: { name: secretName, ...encrypted } });
          apiKeyChange = "replaced";
        } else {
          secretId = (await tx.secret.create({ data: { orgId, name: secretName, ...encrypted }, select: { id: true } })).id;
          apiKeyChange = "set";
        }
      } else if ((input.clearApiKey || input.provider === "SCRIPTED") && secretId) {
        secretId = null;
        apiKeyChange = "removed";
      } else if (secretId && input.name !== existing.name) {
        // Keep the Secret's name in step with the model's, so the secrets list says whose key it is.
        await assertSecretNameFree(tx, orgId, secretName, secretId);
        await tx.secret.updateMany({ where: { id: secretId, orgId }, data: { name: secretName } });
      }

      const { count } = await tx.modelConfig.updateMany({
        where: { id: existing.id, orgId },
        data: columnsOf(input, secretId),
      });
      if (count === 0) throw new NotFound("Model");
      if (apiKeyChange === "removed" && existing.secretId) await deleteSecretIfUnused(tx, orgId, existing.secretId);

      const changed = (
        ["name", "provider", "model", "baseUrl", "inputPriceMicros", "outputPriceMicros", "contextWindow", "maxOutputTokens", "timeoutMs", "maxRetries"] as const
      ).filter((field) => {
        const next = field === "baseUrl" ? normaliseBaseUrl(input.provider, input.baseUrl) : (input[field] ?? null);
        return existing[field] !== next;
      });
      await appendAudit(tx, {
        orgId,
        action: "model.updated",
        ...actorOf(principal),
        targetType: "ModelConfig",
        targetId: existing.id,
        data: { name: input.name, changed, apiKey: apiKeyChange },
      });
      const [row] = await readModelConfigs(tx, orgId, existing.id);
      return present(row!);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(input.name);
    throw error;
  }
}

async function deleteSecretIfUnused(tx: Tx, orgId: string, secretId: string) {
  const users = await tx.modelConfig.count({ where: { orgId, secretId } });
  if (users === 0) await tx.secret.deleteMany({ where: { id: secretId, orgId } });
}

/**
 * Deletes a model config no agent version refers to. Versions are immutable and runs pin them, so a model in use
 * (as the model or the fallback) cannot go. The row lock pairs with the FOR SHARE lock agent saves take on the
 * models they reference: without it a save could commit a version pointing at a model deleted in the same instant
 * (and the fallback foreign key, ON DELETE SET NULL, would silently rewrite that "immutable" version).
 */
export async function deleteModelConfig(db: DbOrTx, principal: Principal, id: string): Promise<{ id: string; name: string }> {
  requireScope(principal, "models:manage");
  const { orgId } = principal;
  return inTransaction(db, async (tx) => {
    const locked = await tx.$queryRaw<{ id: string; name: string; secret_id: string | null }[]>`
      SELECT id, name, secret_id FROM model_configs WHERE id = ${id} AND org_id = ${orgId} FOR UPDATE`;
    const config = locked[0];
    if (!config) throw new NotFound("Model");
    const users = await tx.agentVersion.findMany({
      where: { orgId, OR: [{ modelConfigId: id }, { fallbackModelConfigId: id }] },
      select: { agent: { select: { name: true } } },
    });
    if (users.length > 0) {
      const agents = [...new Set(users.map((v) => v.agent.name))].sort();
      const named = agents.slice(0, 3).map((name) => `“${name}”`).join(", ") + (agents.length > 3 ? ` and ${agents.length - 3} more` : "");
      throw new Conflict(
        `“${config.name}” is used by ${users.length} agent version${users.length === 1 ? "" : "s"} (${named}). ` +
          "Versions never change and runs pin them, so a model any version uses cannot be deleted. You can still edit it.",
      );
    }
    await tx.modelConfig.deleteMany({ where: { id, orgId } });
    if (config.secret_id) await deleteSecretIfUnused(tx, orgId, config.secret_id);
    await appendAudit(tx, {
      orgId,
      action: "model.deleted",
      ...actorOf(principal),
      targetType: "ModelConfig",
      targetId: id,
      data: { name: config.name },
    });
    return { id, name: config.name };
  });
}
