import { z } from "zod";
import type { DbOrTx } from "@/server/db";
import { RateLimited } from "../errors";
import { appendAudit } from "../audit/audit-log";
import { verifyPasswordOrDummy } from "./passwords";
import { SlidingWindowLimiter } from "./rate-limit";

/** Failures allowed per email and per client address in the window before sign-in is refused. */
const FAILURES_PER_EMAIL = 5;
const FAILURES_PER_CLIENT = 20;
const WINDOW_MS = 15 * 60 * 1000;

const globalForLimits = globalThis as unknown as { switchboardSignInLimits?: { byEmail: SlidingWindowLimiter; byClient: SlidingWindowLimiter } };
const limits = (globalForLimits.switchboardSignInLimits ??= {
  byEmail: new SlidingWindowLimiter(FAILURES_PER_EMAIL, WINDOW_MS),
  byClient: new SlidingWindowLimiter(FAILURES_PER_CLIENT, WINDOW_MS),
});

export const CredentialsInput = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email()),
  password: z.string().min(1).max(200),
});

export interface SignedInUser {
  id: string;
  email: string;
  name: string | null;
}

/**
 * Checks an email and password. Returns null for every failure (unknown email, wrong password, disabled user,
 * no membership) so the caller shows one generic message; throws RateLimited after repeated failures.
 */
export async function signInWithPassword(
  db: DbOrTx,
  rawInput: unknown,
  clientKey: string,
): Promise<SignedInUser | null> {
  const parsed = CredentialsInput.safeParse(rawInput);
  if (!parsed.success) return null;
  const { email, password } = parsed.data;
  if (limits.byEmail.isLimited(email) || limits.byClient.isLimited(clientKey)) throw new RateLimited();

  const user = await db.user.findUnique({
    where: { email },
    omit: { passwordHash: false },
    include: { memberships: { where: { revokedAt: null }, take: 1, select: { orgId: true } } },
  });
  const passwordOk = await verifyPasswordOrDummy(password, user?.passwordHash);
  const membership = user?.memberships[0];
  if (!user || !passwordOk || user.disabledAt || !membership) {
    limits.byEmail.hit(email);
    limits.byClient.hit(clientKey);
    if (user && membership) {
      await appendAudit(db, {
        orgId: membership.orgId,
        action: "auth.sign_in_failed",
        actorType: "USER",
        actorId: user.id,
        data: { reason: user.disabledAt ? "disabled" : "bad_password" },
      });
    }
    return null;
  }
  limits.byEmail.reset(email);
  await appendAudit(db, { orgId: membership.orgId, action: "auth.sign_in", actorType: "USER", actorId: user.id });
  return { id: user.id, email: user.email, name: user.name };
}

/** Test hook: forget every counted failure. */
export function resetSignInLimits(): void {
  limits.byEmail = new SlidingWindowLimiter(FAILURES_PER_EMAIL, WINDOW_MS);
  limits.byClient = new SlidingWindowLimiter(FAILURES_PER_CLIENT, WINDOW_MS);
}
