import type { DbOrTx } from "@/server/db";
import { NotFound } from "../errors";
import { decryptSecret } from "../secrets/crypto";

export const MODEL_PROVIDERS = ["OPENAI", "ANTHROPIC", "OLLAMA", "SCRIPTED"] as const;
export type ModelProviderName = (typeof MODEL_PROVIDERS)[number];

/**
 * What the model gateway needs to call one ModelConfig. Structurally the same as `ModelEndpoint` in
 * server/runtime/models/types.ts (the domain must not import the runtime): keep the two in step.
 * Prices are micro-dollars per million tokens.
 */
export interface ModelEndpointConfig {
  id: string;
  name: string;
  provider: ModelProviderName;
  model: string;
  baseUrl: string | null;
  /** The decrypted API key; null when the config has none. Never log it, never return it to a client. */
  apiKey: string | null;
  inputPriceMicros: number;
  outputPriceMicros: number;
  contextWindow: number;
  maxOutputTokens: number | null;
  timeoutMs: number;
  maxRetries: number;
}

/** Raised when a stored API key cannot be decrypted (the encryption key changed, or the row was tampered with). */
export class SecretUnreadableError extends Error {
  constructor(modelName: string, cause: unknown) {
    super(
      `The API key of model “${modelName}” cannot be decrypted: SWITCHBOARD_ENCRYPTION_KEY differs from the one it was stored with. Enter the key again under Admin → Models.`,
      { cause },
    );
    this.name = "SecretUnreadableError";
  }
}

/**
 * Loads a model config of `orgId` with its API key decrypted, for the runtime. No principal: the caller (a worker
 * executing a run) has already established that the run belongs to `orgId`; the org filter still applies.
 */
export async function loadModelEndpoint(
  db: DbOrTx,
  orgId: string,
  modelConfigId: string,
  encryptionKey: Buffer,
): Promise<ModelEndpointConfig> {
  const config = await db.modelConfig.findFirst({ where: { id: modelConfigId, orgId } });
  if (!config) throw new NotFound("Model");
  let apiKey: string | null = null;
  if (config.secretId) {
    const secret = await db.secret.findFirst({
      where: { id: config.secretId, orgId },
      omit: { ciphertext: false, iv: false, authTag: false },
    });
    if (secret) {
      try {
        apiKey = decryptSecret(secret, encryptionKey);
      } catch (error) {
        throw new SecretUnreadableError(config.name, error);
      }
    }
  }
  return {
    id: config.id,
    name: config.name,
    provider: config.provider,
    model: config.model,
    baseUrl: config.baseUrl,
    apiKey,
    inputPriceMicros: config.inputPriceMicros,
    outputPriceMicros: config.outputPriceMicros,
    contextWindow: config.contextWindow,
    maxOutputTokens: config.maxOutputTokens,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
  };
}
