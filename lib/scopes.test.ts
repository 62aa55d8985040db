import { describe, expect, it } from "vitest";
import { navFor } from "@/components/shell/nav";
import { hasScope, ROLE_SCOPES, SCOPES } from "./scopes";

describe("roles and scopes", () => {
  it("gives a member no admin scope and no admin navigation", () => {
    expect(ROLE_SCOPES.MEMBER).not.toContain("members:manage");
    expect(ROLE_SCOPES.MEMBER).not.toContain("apikeys:manage");
    expect(ROLE_SCOPES.MEMBER).not.toContain("approvals:decide");
    const labels = navFor(ROLE_SCOPES.MEMBER).map((item) => item.label);
    expect(labels).not.toContain("Admin");
    expect(labels).not.toContain("Audit");
    expect(labels).toContain("Runs");
  });

  it("shows owners every area", () => {
    expect(navFor(ROLE_SCOPES.OWNER).map((item) => item.label)).toEqual([
      "Dashboard", "Inbox", "Approvals", "Runs", "Agents", "Memory", "Knowledge", "Tools", "Admin", "Audit",
    ]);
  });

  it("lets supervisors decide approvals but not manage members", () => {
    expect(hasScope({ scopes: ROLE_SCOPES.SUPERVISOR }, "approvals:decide")).toBe(true);
    expect(hasScope({ scopes: ROLE_SCOPES.SUPERVISOR }, "members:manage")).toBe(false);
    expect(hasScope(null, "runs:read")).toBe(false);
  });

  it("names every scope resource:action", () => {
    for (const scope of SCOPES) expect(scope).toMatch(/^[a-z]+:[a-z]+$/);
  });
});
