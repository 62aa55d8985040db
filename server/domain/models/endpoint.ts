import type { DbOrTx } from "@/server/db";
import { NotFound } from "../errors";
import { sqlFor } from "@/server/sql";
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

/** A model config's columns, as loadModelEndpoint and the kernel's run-start read (runtimeModelSql) return them. */
export type StoredModelConfig = Omit<ModelEndpointConfig, "apiKey"> & {
  /** Its API key's stored ciphertext; null when the config has none (or the secret is gone). */
  secret: { ciphertext: string; iv: string; authTag: string } | null;
};

/**
 * SQL for one model config as a json object shaped like StoredModelConfig (its secret included), for statements that
 * read it together with what refers to it; `idSql` and `orgSql` are SQL expressions.
 */
export function runtimeModelSql(idSql: string, orgSql: string): string {
  return `(SELECT json_build_object('id', mc.id, 'name', mc.name, 'provider', mc.provider::text, 'model', mc.model, 'baseUrl', mc.base_url,
            'inputPriceMicros', mc.input_price_micros, 'outputPriceMicros', mc.output_price_micros, 'contextWindow', mc.context_window,
            'maxOutputTokens', mc.max_output_tokens, 'timeoutMs', mc.timeout_ms, 'maxRetries', mc.max_retries,
            'secret', (SELECT json_build_object('ciphertext', s.ciphertext, 'iv', s.iv, 'authTag', s.auth_tag)
                         FROM secrets s WHERE s.id = mc.secret_id AND s.org_id = mc.org_id))
       FROM model_configs mc WHERE mc.id = ${idSql} AND mc.org_id = ${orgSql})`;
}

/** The endpoint of a stored model config, its API key decrypted (SecretUnreadableError when it cannot be). */
export function endpointOf(config: StoredModelConfig, encryptionKey: Buffer): ModelEndpointConfig {
  let apiKey: string | null = null;
  if (config.secret) {
    try {
      apiKey = decryptSecret(config.secret, encryptionKey);
    } catch (error) {
      throw new SecretUnreadableError(config.name, error);
    }
  }
  const { secret: _secret, ...columns } = config;
  return { ...columns, apiKey };
}

/**
 * Loads a model config of `orgId` with its API key decrypted, for the runtime. No principal: the caller (a worker
 * executing a run) has already established that the run belongs to `orgId`; the org filter still applies.
 */
export async function loadModelEndpoint(db: DbOrTx, orgId: string, modelConfigId: string, encryptionKey: Buffer): Promise<ModelEndpointConfig> {
  const [row] = await sqlFor(db).query<{ config: StoredModelConfig | null }>(`SELECT ${runtimeModelSql("$1", "$2")} AS config`, [modelConfigId, orgId]);
  if (!row?.config) throw new NotFound("Model");
  return endpointOf(row.config, encryptionKey);
}
