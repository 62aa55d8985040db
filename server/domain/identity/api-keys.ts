import crypto from "node:crypto";
import { z } from "zod";
import { SCOPES, type Scope } from "@/lib/scopes";
import type { DbOrTx } from "@/server/db";
import { Conflict, Forbidden, NotFound } from "../errors";
import { appendAudit } from "../audit/audit-log";
import { sha256Hex } from "../canonical";
import { actorOf, requireScope, type Principal } from "./principal";

const KEY_PREFIX = "sb_";
const PREFIX_SHOWN = 10;
/** lastUsedAt is refreshed at most this often, so a busy key does not write on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export const CreateApiKeyInput = z.object({
  name: z.string().trim().min(1, "Give the key a name.").max(100),
  scopes: z.array(z.enum(SCOPES)).min(1, "Choose at least one scope."),
  // Bounded: PostgreSQL stores years JavaScript cannot read back (e.g. 0000 becomes 1 BC), which broke every list.
  expiresAt: z.coerce
    .date({ error: "Give the expiry as a date." })
    .refine((date) => date.getTime() > Date.now(), "Choose an expiry date in the future.")
    .refine((date) => date.getUTCFullYear() <= 9999, "Choose an expiry date before the year 10000.")
    .optional(),
});
export type CreateApiKeyInput = z.infer<typeof CreateApiKeyInput>;

export function generateApiKey(): string {
  return KEY_PREFIX + crypto.randomBytes(30).toString("base64url");
}

export function hashApiKey(plaintext: string): string {
  return sha256Hex(plaintext);
}

const apiKeySelect = {
  id: true,
  name: true,
  prefix: true,
  scopes: true,
  createdAt: true,
  lastUsedAt: true,
  expiresAt: true,
  revokedAt: true,
  createdBy: { select: { email: true } },
} as const;

export async function createApiKey(
  db: DbOrTx,
  principal: Principal,
  input: CreateApiKeyInput,
  options: { plaintext?: string } = {},
) {
  requireScope(principal, "apikeys:manage");
  // A key never carries more than its creator holds: approval and delegation never widen permissions.
  const beyond = input.scopes.filter((scope) => !principal.scopes.includes(scope));
  if (beyond.length > 0) throw new Forbidden(`You cannot grant scopes you do not hold: ${beyond.join(", ")}.`);
  const plaintext = options.plaintext ?? generateApiKey();
  const key = await db.apiKey.create({
    data: {
      orgId: principal.orgId,
      name: input.name,
      prefix: plaintext.slice(0, PREFIX_SHOWN),
      hashedKey: hashApiKey(plaintext),
      scopes: input.scopes,
      expiresAt: input.expiresAt ?? null,
      createdById: principal.userId,
    },
    select: apiKeySelect,
  });
  await appendAudit(db, {
    orgId: principal.orgId,
    action: "apikey.created",
    ...actorOf(principal),
    targetType: "ApiKey",
    targetId: key.id,
    data: { name: key.name, scopes: key.scopes },
  });
  return { key, plaintext };
}

export async function listApiKeys(db: DbOrTx, principal: Principal) {
  requireScope(principal, "apikeys:manage");
  return db.apiKey.findMany({ where: { orgId: principal.orgId }, select: apiKeySelect, orderBy: { createdAt: "desc" } });
}

export async function getApiKey(db: DbOrTx, principal: Principal, id: string) {
  requireScope(principal, "apikeys:manage");
  const key = await db.apiKey.findFirst({ where: { id, orgId: principal.orgId }, select: apiKeySelect });
  if (!key) throw new NotFound("API key");
  return key;
}

export async function revokeApiKey(db: DbOrTx, principal: Principal, id: string) {
  requireScope(principal, "apikeys:manage");
  await getApiKey(db, principal, id);
  // CAS on revokedAt: revoking twice is a conflict, not a silent success that hides a race.
  const { count } = await db.apiKey.updateMany({
    where: { id, orgId: principal.orgId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (count === 0) throw new Conflict("This API key is already revoked.");
  await appendAudit(db, {
    orgId: principal.orgId,
    action: "apikey.revoked",
    ...actorOf(principal),
    targetType: "ApiKey",
    targetId: id,
  });
  return getApiKey(db, principal, id);
}

/** Resolves a bearer key to its principal; null when unknown, revoked, expired or its creator lost access. */
export async function authenticateApiKey(db: DbOrTx, plaintext: string): Promise<Principal | null> {
  if (!plaintext.startsWith(KEY_PREFIX) || plaintext.length > 200) return null;
  const key = await db.apiKey.findUnique({
    where: { hashedKey: hashApiKey(plaintext) },
    select: { id: true, orgId: true, scopes: true, revokedAt: true, expiresAt: true, lastUsedAt: true, createdById: true },
  });
  const now = new Date();
  if (!key || key.revokedAt || (key.expiresAt && key.expiresAt <= now)) return null;
  if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: now } });
  }
  return {
    kind: "apiKey",
    orgId: key.orgId,
    apiKeyId: key.id,
    userId: key.createdById,
    scopes: key.scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)),
  };
}
