import { beforeAll, expect, it } from "vitest";
import { describeOnEachDatabase } from "../testing/databases";
import { createTestAgentAndRun, createTestOrg, type TestOrg } from "../testing/fixtures";
import { createCaller } from "./root";

describeOnEachDatabase("memory router", (getDb) => {
  let org: TestOrg;
  let agentId: string;

  beforeAll(async () => {
    org = await createTestOrg(getDb(), "memrouter");
    agentId = (await createTestAgentAndRun(getDb(), org)).agent.id;
  });

  it("creates, finds, edits and deletes a memory, with filter facets scoped to the caller", async () => {
    const owner = createCaller({ db: getDb(), principal: org.principals.OWNER });
    const member = createCaller({ db: getDb(), principal: org.principals.MEMBER });
    const { id } = await owner.memory.create({ content: "Quarterly reports go to the board on the 5th", scope: "AGENT", kind: "FACT", agentId });
    const found = await member.memory.search({ q: "quarterly board" });
    expect(found.items.map((item) => item.id)).toEqual([id]);
    expect(found.items[0]?.highlight).toContain("<mark>Quarterly</mark>");
    expect(await owner.memory.update({ id, pinned: true })).toMatchObject({ id, pinned: true });
    expect(await member.memory.get({ id })).toMatchObject({ id, agent: { id: agentId }, revisions: [], supersedes: [] });

    const memberFacets = await member.memory.facets();
    const self = org.principals.MEMBER;
    expect(memberFacets.users).toEqual([{ id: self.userId, email: self.email, name: self.name }]);
    expect(memberFacets.agents.map((agent) => agent.id)).toContain(agentId);
    expect((await owner.memory.facets()).users).toHaveLength(4);

    await expect(member.memory.delete({ ids: [id] })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(owner.memory.delete({ ids: [] })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await owner.memory.delete({ ids: [id] })).toEqual({ deleted: 1 });
    await expect(member.memory.get({ id })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
