import { beforeAll, expect, it } from "vitest";
import { describeOnEachDatabase } from "../../testing/databases";
import { createTestOrg, type TestOrg } from "../../testing/fixtures";

import { seedDemoKnowledge } from "./demo-documents";
import {
  deleteDocument,
  ensureKnowledgeDocument,
  getDocument,
  listCollections,
  listDocuments,
  MAX_DOCUMENT_BYTES,
  searchKnowledge,
  searchKnowledgeFor,
  uploadDocument,
} from "./knowledge";

/** A real one-page PDF with a text layer, written by hand (offsets in the xref table computed, as readers check them). */
function tinyPdf(lines: string[]): Uint8Array {
  const escape = (line: string) => line.replace(/[()\\]/g, (c) => `\\${c}`);
  const content = `BT /F1 12 Tf 72 720 Td 14 TL ${lines.map((line) => `(${escape(line)}) Tj T*`).join(" ")} ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let pdf = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")}`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(pdf);
}

const encode = (text: string) => new TextEncoder().encode(text);

const filler = (topic: string, n: number) =>
  Array.from({ length: n }, (_, i) => `Paragraph ${i + 1} about ${topic} explains ordinary details that matter to nobody in particular.`).join("\n\n");

const HANDBOOK = [
  "# Support handbook",
  "How the support team works, section by section.",
  "## Shipping",
  filler("parcels", 8),
  "## Refunds",
  "Customers may request a refund within 30 days of delivery. Refunds go back to the original payment method within five business days.",
  filler("paperwork", 8),
  "## Warranty",
  "Furniture carries a two-year warranty against manufacturing defects; damage from misuse is not covered.",
].join("\n\n");

describeOnEachDatabase("knowledge: documents, chunks and cited search", (getDb) => {
  let org: TestOrg;
  let other: TestOrg;

  beforeAll(async () => {
    const db = getDb();
    org = await createTestOrg(db, "knowledge");
    other = await createTestOrg(db, "knowledge-other");
  });

  it("uploads Markdown into chunks that are exact slices of the text, and audits the upload", async () => {
    const db = getDb();
    const uploaded = await uploadDocument(db, org.principals.SUPERVISOR, { collection: "support", fileName: "handbook.md", mimeType: "text/markdown", bytes: encode(HANDBOOK) });
    expect(uploaded.title).toBe("Support handbook");
    expect(uploaded.chunks).toBeGreaterThan(2);

    const document = await getDocument(db, org.principals.MEMBER, uploaded.id);
    expect(document).toMatchObject({ collection: "support", mimeType: "text/markdown", sizeBytes: encode(HANDBOOK).byteLength });
    expect(document.createdBy?.id).toBe(org.principals.SUPERVISOR.userId);
    expect(document.chunks.map((c) => c.position)).toEqual(document.chunks.map((_, i) => i + 1));
    for (const chunk of document.chunks) {
      expect(chunk.content).toBe(HANDBOOK.slice(chunk.startOffset, chunk.endOffset));
      expect(chunk.content.length).toBeLessThanOrEqual(1_210);
    }
    // Sections start their own chunks.
    expect(document.chunks.some((c) => c.content.startsWith("## Refunds"))).toBe(true);
    expect(document.chunks.some((c) => c.content.startsWith("## Warranty"))).toBe(true);

    const audit = await db.auditEvent.findFirst({ where: { orgId: org.orgId, action: "knowledge.uploaded", targetId: uploaded.id } });
    expect(audit).toMatchObject({ actorType: "USER", actorId: org.principals.SUPERVISOR.userId });
    expect(audit?.data).toMatchObject({ collection: "support", title: "Support handbook", chunks: uploaded.chunks });
  });

  it("uploads plain text and a real PDF, and finds their words", async () => {
    const db = getDb();
    const text = await uploadDocument(db, org.principals.OWNER, {
      collection: "ops",
      title: "Opening hours",
      fileName: "hours.txt",
      mimeType: "text/plain",
      bytes: encode("The warehouse is open Monday to Friday.\r\n\r\nOn Saturdays the loading dock closes at noon.\u0000"),
    });
    const textDoc = await getDocument(db, org.principals.OWNER, text.id);
    expect(textDoc.chunks.map((c) => c.content)).toEqual(["The warehouse is open Monday to Friday.\n\nOn Saturdays the loading dock closes at noon."]);

    const pdf = await uploadDocument(db, org.principals.OWNER, {
      collection: "ops",
      fileName: "forklift-safety.pdf",
      mimeType: "application/octet-stream",
      bytes: tinyPdf(["Forklift drivers must wear a hi-vis vest.", "Inspect the forks before every shift."]),
    });
    expect(pdf.title).toBe("forklift-safety");
    const pdfDoc = await getDocument(db, org.principals.OWNER, pdf.id);
    expect(pdfDoc.mimeType).toBe("application/pdf");
    expect(pdfDoc.chunks[0]?.content).toContain("Forklift drivers must wear a hi-vis vest.");

    const hits = await searchKnowledge(db, { orgId: org.orgId, query: "forklift vest", k: 5 });
    expect(hits[0]).toMatchObject({ documentId: pdf.id, documentTitle: "forklift-safety", collection: "ops", position: 1 });
    const saturday = await searchKnowledge(db, { orgId: org.orgId, query: "saturday dock", k: 5 });
    expect(saturday[0]?.documentId).toBe(text.id);
  });

  it("ranks the passage that answers the question first, with a citation, highlights, and collection filters", async () => {
    const db = getDb();
    const hits = await searchKnowledge(db, { orgId: org.orgId, query: "refund within how many days", k: 3 });
    expect(hits.length).toBeGreaterThan(0);
    const top = hits[0]!;
    expect(top.content).toContain("request a refund within 30 days");
    expect(top.documentTitle).toBe("Support handbook");
    expect(top.score).toBeGreaterThan(0);
    for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
    const document = await getDocument(db, org.principals.MEMBER, top.documentId);
    const chunk = document.chunks.find((c) => c.position === top.position)!;
    expect(top).toMatchObject({ chunkId: chunk.id, startOffset: chunk.startOffset, endOffset: chunk.endOffset });
    expect(HANDBOOK.slice(top.startOffset, top.endOffset)).toBe(top.content);

    const { items } = await searchKnowledgeFor(db, org.principals.MEMBER, { q: "warranty <b>defects</b>", k: 3 });
    expect(items[0]?.content).toContain("two-year warranty");
    expect(items[0]?.href).toBe(`/knowledge/${items[0]?.documentId}#chunk-${items[0]?.position}`);
    expect(items[0]?.highlight).toMatch(/<mark>warranty<\/mark>/);
    expect(items[0]?.highlight).not.toMatch(/<(?!\/?mark>)/);

    expect(await searchKnowledge(db, { orgId: org.orgId, query: "warranty", k: 5, collections: ["ops"] })).toEqual([]);
    expect(await searchKnowledge(db, { orgId: org.orgId, query: "   ", k: 5 })).toEqual([]);
    expect(await searchKnowledge(db, { orgId: org.orgId, query: "the and of", k: 5 })).toEqual([]);
    // Web-search syntax means what it says: an excluded word excludes, a quoted phrase must appear as written.
    const excluded = await searchKnowledge(db, { orgId: org.orgId, query: "warranty -furniture", k: 5 });
    expect(excluded.every((hit) => !/furniture/i.test(hit.content))).toBe(true);
    expect(await searchKnowledge(db, { orgId: org.orgId, query: '"warranty refund"', k: 5 })).toEqual([]);
    // Whatever people type is a valid query.
    expect(await searchKnowledge(db, { orgId: org.orgId, query: `"unterminated -( or :*`, k: 5 })).toBeInstanceOf(Array);
  });

  it("keeps organisations apart: another org neither finds nor opens nor deletes these documents", async () => {
    const db = getDb();
    const [first] = await listDocuments(db, org.principals.MEMBER, { collection: "support" });
    expect(first).toBeDefined();
    expect(await searchKnowledge(db, { orgId: other.orgId, query: "refund", k: 5 })).toEqual([]);
    expect((await searchKnowledgeFor(db, other.principals.OWNER, { q: "refund" })).items).toEqual([]);
    expect(await listDocuments(db, other.principals.OWNER)).toEqual([]);
    expect(await listCollections(db, other.principals.OWNER)).toEqual([]);
    await expect(getDocument(db, other.principals.OWNER, first!.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(deleteDocument(db, other.principals.OWNER, first!.id)).rejects.toMatchObject({ code: "NOT_FOUND" });

    const collections = await listCollections(db, org.principals.MEMBER);
    expect(collections.map((c) => [c.name, c.documents])).toEqual([["ops", 2], ["support", 1]]);
  });

  it("refuses unsupported, empty, unreadable and too large files with messages people understand, and checks scopes", async () => {
    const db = getDb();
    const owner = org.principals.OWNER;
    const upload = (fileName: string, mimeType: string, bytes: Uint8Array) => uploadDocument(db, owner, { collection: "errors", fileName, mimeType, bytes });

    await expect(upload("photo.png", "image/png", new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("not a supported document") as unknown });
    await expect(upload("empty.md", "text/markdown", new Uint8Array())).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("is empty") as unknown });
    await expect(upload("blank.txt", "text/plain", encode("  \n\n \t "))).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("no text") as unknown });
    await expect(upload("broken.pdf", "application/pdf", encode("%PDF-1.4 this is not really a pdf"))).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("could not be read as a PDF") as unknown });
    await expect(upload("fake.pdf", "application/pdf", encode("just text"))).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(upload("latin1.txt", "text/plain", new Uint8Array([0x63, 0x61, 0x66, 0xe9]))).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("UTF-8") as unknown });
    await expect(upload("huge.txt", "text/plain", new Uint8Array(MAX_DOCUMENT_BYTES + 1).fill(0x61))).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE", message: expect.stringContaining("10 MB") as unknown });
    await expect(uploadDocument(db, owner, { collection: "bad/name", fileName: "a.md", bytes: encode("x") })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect(await listDocuments(db, owner, { collection: "errors" })).toEqual([]);

    await expect(uploadDocument(db, org.principals.MEMBER, { collection: "support", fileName: "a.md", bytes: encode("# A") })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const [doc] = await listDocuments(db, owner, { collection: "support" });
    await expect(deleteDocument(db, org.principals.MEMBER, doc!.id)).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("deletes a document with its chunks: it is no longer found, and the audit keeps no text", async () => {
    const db = getDb();
    const { id } = await uploadDocument(db, org.principals.OWNER, { collection: "temp", fileName: "secret-plan.md", bytes: encode("# Plan\n\nThe zeppelin launches at dawn.") });
    expect((await searchKnowledge(db, { orgId: org.orgId, query: "zeppelin", k: 5 })).length).toBe(1);
    await deleteDocument(db, org.principals.SUPERVISOR, id);
    expect(await searchKnowledge(db, { orgId: org.orgId, query: "zeppelin", k: 5 })).toEqual([]);
    expect(await db.knowledgeChunk.count({ where: { documentId: id } })).toBe(0);
    await expect(getDocument(db, org.principals.OWNER, id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    const audit = await db.auditEvent.findFirst({ where: { orgId: org.orgId, action: "knowledge.deleted", targetId: id } });
    expect(audit).toMatchObject({ actorType: "USER", actorId: org.principals.SUPERVISOR.userId });
    expect(JSON.stringify(audit?.data)).not.toContain("zeppelin");
  });

  it("seeds a document once per collection and title", async () => {
    const db = getDb();
    const doc = { collection: "seeded", title: "Seeded FAQ", fileName: "faq.md", mimeType: "text/markdown", text: "# FAQ\n\nAnswers to questions about gazebos." };
    expect(await ensureKnowledgeDocument(db, org.orgId, doc)).toBe(true);
    expect(await ensureKnowledgeDocument(db, org.orgId, doc)).toBe(false);
    expect(await listDocuments(db, org.principals.OWNER, { collection: "seeded" })).toHaveLength(1);
  });

  it("seeds the demo support collection idempotently, and its passages answer the demo mailbox's questions", async () => {
    const db = getDb();
    const demo = await createTestOrg(db, "knowledge-demo");
    expect(await seedDemoKnowledge(db, demo.orgId)).toBe(3);
    expect(await seedDemoKnowledge(db, demo.orgId)).toBe(0);
    expect((await listCollections(db, demo.principals.MEMBER)).map((c) => [c.name, c.documents])).toEqual([["support", 3]]);
    const [bulbs] = await searchKnowledge(db, { orgId: demo.orgId, query: "Do the bulbs I ordered fit the arc lamp?", k: 3 });
    expect(bulbs).toMatchObject({ documentTitle: "Product care and warranty" });
    expect(bulbs?.content).toContain("E27");
    const [refund] = await searchKnowledge(db, { orgId: demo.orgId, query: "refund over $100 approval", k: 3, collections: ["support"] });
    expect(refund?.content).toContain("need a supervisor's approval");
  });
});
