import { z } from "zod";
import { inTransaction, type DbOrTx } from "@/server/db";
import { appendAudit } from "../audit/audit-log";
import { Conflict, InvalidInput, NotFound } from "../errors";
import { actorOf, requireScope, type Principal } from "../identity/principal";
import { isUniqueViolation, parseInput } from "../tools/input";
import { decryptSecret, encryptSecret } from "./crypto";

/**
 * Named values encrypted at rest (AES-256-GCM, see crypto.ts), referenced by name from tool servers (env vars and
 * HTTP headers) and by id from model configs.
 *
 * What must stay true:
 * - A value never leaves this module except through `resolveSecrets`, which only the runtime calls: no list, no
 *   audit entry and no error message ever contains one.
 * - The encryption key is passed in (`runtimeSecrets().encryptionKey` in the app), never read here, so tests and
 *   scripts choose their own.
 */

export interface SecretKeyOptions {
  encryptionKey: Buffer;
}

export const SecretName = z
  .string()
  .trim()
  .min(1, "Give the secret a name.")
  .max(100, "Keep the name under 100 characters.")
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "Use letters, digits, dots, dashes and underscores, e.g. “crm-api-token”.");

const SecretValue = z.string().min(1, "Enter the value.").max(16_384, "A secret value can be at most 16 KB.");

export const CreateSecretInput = z.object({ name: SecretName, value: SecretValue });
export type CreateSecretInput = z.input<typeof CreateSecretInput>;

export const UpdateSecretInput = z.object({ id: z.string().min(1), value: SecretValue });
export type UpdateSecretInput = z.input<typeof UpdateSecretInput>;

export const SecretIdInput = z.object({ id: z.string().min(1) });

const secretSelect = { id: true, name: true, createdAt: true, updatedAt: true } as const;

/** Where a secret is referenced: tool servers by name (env and headers), model configs by id. */
async function usesOf(db: DbOrTx, orgId: string, secret: { id: string; name: string }): Promise<string[]> {
  const [servers, models] = await Promise.all([
    db.toolServer.findMany({ where: { orgId }, select: { name: true, envSecrets: true, headerSecrets: true } }),
    db.modelConfig.findMany({ where: { orgId, secretId: secret.id }, select: { name: true } }),
  ]);
  const byServers = servers
    .filter((server) => [server.envSecrets, server.headerSecrets].some((refs) => Object.values(asStringRecord(refs)).includes(secret.name)))
    .map((server) => `tool server “${server.name}”`);
  return [...byServers, ...models.map((model) => `model “${model.name}”`)];
}

function asStringRecord(value: unknown): Record<string, string> {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === "string"));
}

export async function listSecrets(db: DbOrTx, principal: Principal) {
  requireScope(principal, "secrets:manage");
  const secrets = await db.secret.findMany({ where: { orgId: principal.orgId }, select: secretSelect, orderBy: { name: "asc" } });
  const [servers, models] = await Promise.all([
    db.toolServer.findMany({ where: { orgId: principal.orgId }, select: { name: true, envSecrets: true, headerSecrets: true } }),
    db.modelConfig.findMany({ where: { orgId: principal.orgId, secretId: { not: null } }, select: { name: true, secretId: true } }),
  ]);
  return secrets.map((secret) => ({
    ...secret,
    usedBy: [
      ...servers
        .filter((s) => [s.envSecrets, s.headerSecrets].some((refs) => Object.values(asStringRecord(refs)).includes(secret.name)))
        .map((s) => ({ kind: "toolServer" as const, name: s.name })),
      ...models.filter((m) => m.secretId === secret.id).map((m) => ({ kind: "model" as const, name: m.name })),
    ],
  }));
}

export async function createSecret(db: DbOrTx, principal: Principal, rawInput: CreateSecretInput, { encryptionKey }: SecretKeyOptions) {
  requireScope(principal, "secrets:manage");
  const input = parseInput(CreateSecretInput, rawInput);
  const nameTaken = () => new InvalidInput(`A secret named “${input.name}” already exists.`, { name: ["A secret with this name already exists."] });
  try {
    return await inTransaction(db, async (tx) => {
      const existing = await tx.secret.findFirst({ where: { orgId: principal.orgId, name: input.name }, select: { id: true } });
      if (existing) throw nameTaken();
      const secret = await tx.secret.create({
        data: { orgId: principal.orgId, name: input.name, ...encryptSecret(input.value, encryptionKey) },
        select: secretSelect,
      });
      await appendAudit(tx, { orgId: principal.orgId, action: "secret.created", ...actorOf(principal), targetType: "Secret", targetId: secret.id, data: { name: secret.name } });
      return secret;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken();
    throw error;
  }
}

/** Replaces a secret's value; servers using it pick it up on their next connection (the pool sees a new spec). */
export async function updateSecret(db: DbOrTx, principal: Principal, rawInput: UpdateSecretInput, { encryptionKey }: SecretKeyOptions) {
  requireScope(principal, "secrets:manage");
  const input = parseInput(UpdateSecretInput, rawInput);
  return inTransaction(db, async (tx) => {
    const { count } = await tx.secret.updateMany({
      where: { id: input.id, orgId: principal.orgId },
      data: { ...encryptSecret(input.value, encryptionKey) },
    });
    if (count === 0) throw new NotFound("Secret");
    const secret = await tx.secret.findFirstOrThrow({ where: { id: input.id, orgId: principal.orgId }, select: secretSelect });
    await appendAudit(tx, { orgId: principal.orgId, action: "secret.updated", ...actorOf(principal), targetType: "Secret", targetId: secret.id, data: { name: secret.name } });
    return secret;
  });
}

/** Refuses to delete a secret something still uses: a server would fail on its next start with a worse message. */
export async function deleteSecret(db: DbOrTx, principal: Principal, id: string) {
  requireScope(principal, "secrets:manage");
  return inTransaction(db, async (tx) => {
    const secret = await tx.secret.findFirst({ where: { id, orgId: principal.orgId }, select: secretSelect });
    if (!secret) throw new NotFound("Secret");
    const uses = await usesOf(tx, principal.orgId, secret);
    if (uses.length > 0) throw new Conflict(`“${secret.name}” is still used by ${uses.join(", ")}. Remove it there first.`);
    await tx.secret.deleteMany({ where: { id, orgId: principal.orgId } });
    await appendAudit(tx, { orgId: principal.orgId, action: "secret.deleted", ...actorOf(principal), targetType: "Secret", targetId: id, data: { name: secret.name } });
    return secret;
  });
}

/**
 * Decrypts the named secrets of `orgId` for the runtime. No principal: callers (the pool's spec builder, a worker)
 * act for a run or an admin action that was already authorised. Throws InvalidInput naming what is missing.
 */
export async function resolveSecrets(db: DbOrTx, orgId: string, names: readonly string[], encryptionKey: Buffer | undefined): Promise<Record<string, string>> {
  const wanted = [...new Set(names)];
  if (wanted.length === 0) return {};
  const rows = await db.secret.findMany({
    where: { orgId, name: { in: wanted } },
    omit: { ciphertext: false, iv: false, authTag: false },
  });
  const missing = wanted.filter((name) => !rows.some((row) => row.name === name));
  if (missing.length > 0) {
    const list = missing.map((name) => `“${name}”`).join(", ");
    throw new InvalidInput(missing.length === 1 ? `The secret ${list} does not exist. Create it under Tools → Secrets.` : `The secrets ${list} do not exist. Create them under Tools → Secrets.`);
  }
  if (!encryptionKey) throw new InvalidInput("Secrets cannot be read here: no encryption key was provided.");
  const values: Record<string, string> = {};
  for (const row of rows) {
    try {
      values[row.name] = decryptSecret(row, encryptionKey);
    } catch {
      throw new InvalidInput(
        `The secret “${row.name}” cannot be decrypted: SWITCHBOARD_ENCRYPTION_KEY differs from the one it was stored with. Enter its value again.`,
      );
    }
  }
  return values;
}
