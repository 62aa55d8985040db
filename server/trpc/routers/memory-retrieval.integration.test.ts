import { afterAll, beforeAll, expect, it } from "vitest";
import { configureEmbeddings, PGVECTOR_MISSING_NOTICE } from "../../domain/memory/embeddings";
import { describeOnEachDatabase } from "../../testing/databases";
import { createTestOrg, type TestOrg } from "../../testing/fixtures";
import { createCaller } from "../root";

/** What the memory page shows about ranking — every reader of memories may ask; checking calls no provider. */
describeOnEachDatabase("memory.retrievalStatus", (getDb, kind) => {
  let org: TestOrg;

  beforeAll(async () => {
    org = await createTestOrg(getDb(), "memstatus");
  });

  afterAll(() => configureEmbeddings(null));

  it("says full text without embeddings, and hybrid or why not with them", async () => {
    const member = createCaller({ db: getDb(), principal: org.principals.MEMBER });
    configureEmbeddings(null);
    expect(await member.memory.retrievalStatus()).toEqual({ mode: "full_text", notice: null });

    configureEmbeddings({ provider: "ollama", url: "http://127.0.0.1:9", model: "nomic-embed-text" });
    const [row] = await getDb().$queryRaw<{ available: boolean }[]>`SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS available`;
    // The embedded database ships pgvector; this PostgreSQL may or may not have it.
    const hybrid = kind === "pglite" || row?.available === true;
    expect(await member.memory.retrievalStatus()).toEqual(hybrid ? { mode: "hybrid", notice: null } : { mode: "full_text", notice: PGVECTOR_MISSING_NOTICE });
  });
});
