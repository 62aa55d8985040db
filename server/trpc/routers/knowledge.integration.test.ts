import { beforeAll, expect, it } from "vitest";
import { POST as uploadRoute } from "@/app/api/v1/knowledge/documents/route";
import { GET as searchRoute } from "@/app/api/v1/knowledge/search/route";
import { overrideDatabaseForTests } from "../../db";
import { describeOnEachDatabase } from "../../testing/databases";
import { createTestApiKey, createTestOrg, type TestOrg } from "../../testing/fixtures";
import { callRest } from "../../testing/rest";
import { createCaller } from "../root";

/** A multipart POST as curl -F sends it (callRest always sends JSON). */
function postForm(key: string, form: FormData): Promise<Response> {
  const request = new Request("http://localhost/api/v1/knowledge/documents", { method: "POST", headers: { authorization: `Bearer ${key}` }, body: form });
  return uploadRoute(request, { params: Promise.resolve({}) });
}

describeOnEachDatabase("knowledge over tRPC and REST", (getDb, kind) => {
  let org: TestOrg;
  let other: TestOrg;

  beforeAll(async () => {
    const db = getDb();
    overrideDatabaseForTests(db, kind === "pglite" ? { kind: "pglite", dataDir: "memory://" } : { kind: "postgres", url: "test" });
    org = await createTestOrg(db, "knowledge-api");
    other = await createTestOrg(db, "knowledge-api-other");
  });

  it("serves the console through tRPC: base64 upload, list, search, get and delete", async () => {
    const db = getDb();
    const caller = createCaller({ db, principal: org.principals.SUPERVISOR });
    const contentBase64 = Buffer.from("# Returns desk\n\nThe returns desk accepts pallets until 4 pm.").toString("base64");
    const { id, chunks } = await caller.knowledge.upload({ collection: "trpc", fileName: "returns.md", mimeType: "text/markdown", contentBase64 });
    expect(chunks).toBe(1);
    expect((await caller.knowledge.collections()).map((c) => c.name)).toContain("trpc");
    expect((await caller.knowledge.documents({ collection: "trpc" }))[0]).toMatchObject({ id, title: "Returns desk", chunks: 1 });
    const found = await caller.knowledge.search({ q: "pallets" });
    expect(found.items[0]).toMatchObject({ documentId: id, position: 1, href: `/knowledge/${id}#chunk-1` });
    expect((await caller.knowledge.byId({ id })).chunks).toHaveLength(1);
    await caller.knowledge.delete({ id });
    await expect(caller.knowledge.byId({ id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(createCaller({ db, principal: org.principals.MEMBER }).knowledge.upload({ collection: "trpc", fileName: "x.md", mimeType: "", contentBase64 })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("serves REST: multipart upload returns 201 with id and chunks, and search returns cited passages", async () => {
    const db = getDb();
    const writer = await createTestApiKey(db, org, ["memory:read", "memory:write"]);
    const reader = await createTestApiKey(db, org, ["memory:read"]);

    const form = new FormData();
    form.set("collection", "rest");
    form.set("file", new File(["# Pallet sizes\n\nEuro pallets measure 1200 by 800 millimetres."], "pallets.md", { type: "text/markdown" }));
    const created = await postForm(writer.plaintext, form);
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; chunks: number };
    expect(body).toEqual({ id: expect.any(String) as unknown, chunks: 1 });

    const denied = new FormData();
    denied.set("collection", "rest");
    denied.set("file", new File(["hello"], "hello.txt", { type: "text/plain" }));
    expect((await postForm(reader.plaintext, denied)).status).toBe(403);

    const missing = new FormData();
    missing.set("collection", "rest");
    const noFile = await postForm(writer.plaintext, missing);
    expect(noFile.status).toBe(400);

    const badType = new FormData();
    badType.set("collection", "rest");
    badType.set("file", new File([new Uint8Array([1, 2, 3])], "image.png", { type: "image/png" }));
    const refused = await postForm(writer.plaintext, badType);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("not a supported document");

    const search = await callRest(searchRoute, reader.plaintext, {}, { path: "/api/v1/knowledge/search?q=euro%20pallets&k=3" });
    expect(search.status).toBe(200);
    const { items } = (await search.json()) as { items: Record<string, unknown>[] };
    expect(items[0]).toEqual({
      chunkId: expect.any(String) as unknown,
      documentId: body.id,
      title: "Pallet sizes",
      collection: "rest",
      position: 1,
      content: "# Pallet sizes\n\nEuro pallets measure 1200 by 800 millimetres.",
      score: expect.any(Number) as unknown,
    });
    const otherKey = await createTestApiKey(db, other, ["memory:read"]);
    const elsewhere = await callRest(searchRoute, otherKey.plaintext, {}, { path: "/api/v1/knowledge/search?q=euro%20pallets" });
    expect(((await elsewhere.json()) as { items: unknown[] }).items).toEqual([]);
  });
});
