import { beforeAll, beforeEach, expect, it } from "vitest";
import { describeOnEachDatabase } from "@/server/testing/databases";
import { createTestOrg, type TestOrg } from "@/server/testing/fixtures";
import { verifyAuditChain } from "../audit/audit-log";
import { authenticateApiKey, createApiKey } from "./api-keys";
import { acceptInvitation, changeRole, describeInvitation, inviteMember, revokeMember } from "./members";
import { principalForUser } from "./principal";
import { resetSignInLimits, signInWithPassword } from "./sign-in";

describeOnEachDatabase("identity: invitations, roles, sign-in and API keys", (getDb) => {
  let org: TestOrg;
  beforeAll(async () => {
    org = await createTestOrg(getDb(), "ident");
  });
  beforeEach(() => resetSignInLimits());

  it("lets an invited person set a password once, join with the invited role, and sign in", async () => {
    const db = getDb();
    const email = `invitee-${org.orgId}@ident.test`;
    const { token } = await inviteMember(db, org.principals.ADMIN, { email, role: "SUPERVISOR" });
    expect(await describeInvitation(db, token)).toMatchObject({ email, role: "SUPERVISOR" });
    await acceptInvitation(db, { token, name: "Ivy", password: "correct horse battery" });
    await expect(acceptInvitation(db, { token, name: "Ivy", password: "another password" })).rejects.toMatchObject({ code: "NOT_FOUND" });

    const user = await signInWithPassword(db, { email, password: "correct horse battery" }, "test");
    expect(user?.email).toBe(email);
    const principal = await principalForUser(db, user!.id);
    expect(principal).toMatchObject({ orgId: org.orgId, role: "SUPERVISOR" });
    expect(principal?.scopes).toContain("approvals:decide");
    expect(principal?.scopes).not.toContain("members:manage");
  });

  it("refuses a wrong password with null (one generic failure) and rate-limits repeated failures", async () => {
    const db = getDb();
    const email = `limited-${org.orgId}@ident.test`;
    const { token } = await inviteMember(db, org.principals.ADMIN, { email, role: "MEMBER" });
    await acceptInvitation(db, { token, name: "Lim", password: "the right password" });
    expect(await signInWithPassword(db, { email: "nobody@ident.test", password: "x" }, "client-1")).toBeNull();
    for (let i = 0; i < 5; i++) {
      expect(await signInWithPassword(db, { email, password: "wrong" }, "client-1")).toBeNull();
    }
    // Even the right password is refused while the window is full: guessing cannot continue.
    await expect(signInWithPassword(db, { email, password: "the right password" }, "client-1")).rejects.toMatchObject({ code: "RATE_LIMITED" });
  });

  it("never lets an admin mint owners or remove the last owner", async () => {
    const db = getDb();
    const other = await createTestOrg(db, "owners");
    const ownerMembership = await db.membership.findFirstOrThrow({ where: { orgId: other.orgId, role: "OWNER" } });
    const memberMembership = await db.membership.findFirstOrThrow({ where: { orgId: other.orgId, role: "MEMBER" } });
    await expect(changeRole(db, other.principals.ADMIN, { membershipId: memberMembership.id, role: "OWNER" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(changeRole(db, other.principals.OWNER, { membershipId: ownerMembership.id, role: "ADMIN" })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(revokeMember(db, other.principals.OWNER, ownerMembership.id)).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await changeRole(db, other.principals.ADMIN, { membershipId: memberMembership.id, role: "SUPERVISOR" });
    expect((await db.membership.findUniqueOrThrow({ where: { id: memberMembership.id } })).role).toBe("SUPERVISOR");
  });

  it("takes a revoked membership's permissions away at once", async () => {
    const db = getDb();
    const other = await createTestOrg(db, "revoke");
    const member = other.principals.MEMBER;
    const membership = await db.membership.findFirstOrThrow({ where: { orgId: other.orgId, userId: member.userId } });
    expect(await principalForUser(db, member.userId)).not.toBeNull();
    await revokeMember(db, other.principals.ADMIN, membership.id);
    expect(await principalForUser(db, member.userId)).toBeNull();
    await expect(revokeMember(db, other.principals.ADMIN, membership.id)).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("refuses to put scopes on an API key that its creator does not hold", async () => {
    const db = getDb();
    await expect(createApiKey(db, org.principals.SUPERVISOR, { name: "x", scopes: ["runs:read"] })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const { plaintext } = await createApiKey(db, org.principals.ADMIN, { name: "ci", scopes: ["runs:read"] });
    const principal = await authenticateApiKey(db, plaintext);
    expect(principal).toMatchObject({ kind: "apiKey", orgId: org.orgId, scopes: ["runs:read"] });
    const stored = await db.apiKey.findFirstOrThrow({ where: { orgId: org.orgId, name: "ci" }, omit: { hashedKey: false } });
    expect(stored.hashedKey).not.toContain(plaintext);
    expect(stored.lastUsedAt).not.toBeNull();
  });

  it("keeps every org's audit chain intact and names the first tampered event", async () => {
    const db = getDb();
    const chained = await createTestOrg(db, "chain");
    for (let i = 0; i < 3; i++) await inviteMember(db, chained.principals.ADMIN, { email: `p${i}-${chained.orgId}@chain.test`, role: "MEMBER" });
    const verified = await verifyAuditChain(db, chained.orgId);
    expect(verified).toEqual({ ok: true, events: 3 });
    const second = await db.auditEvent.findFirstOrThrow({ where: { orgId: chained.orgId, seq: 2 } });
    await db.auditEvent.update({ where: { id: second.id }, data: { data: { email: "someone-else@chain.test", role: "OWNER" } } });
    const broken = await verifyAuditChain(db, chained.orgId);
    expect(broken).toMatchObject({ ok: false, brokenAt: { id: second.id, seq: 2 } });
  });
});
