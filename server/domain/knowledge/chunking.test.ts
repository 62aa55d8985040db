import { describe, expect, it } from "vitest";
import { chunkText, DEFAULT_CHUNK_OPTIONS } from "./chunking";

const sentence = (i: number) => `Sentence number ${i} talks about chairs, desks and lamps in some detail.`;
const paragraph = (from: number, count: number) => Array.from({ length: count }, (_, i) => sentence(from + i)).join(" ");

describe("chunkText", () => {
  it("keeps every chunk an exact slice of the text, in order, within the size limit", () => {
    const text = ["# Guide", paragraph(0, 12), "## Part two", paragraph(100, 30), paragraph(200, 3), "## Part three\nShort."].join("\n\n");
    const chunks = chunkText(text);
    expect(chunks.length).toBeGreaterThan(2);
    chunks.forEach((chunk, i) => {
      expect(chunk.position).toBe(i + 1);
      expect(chunk.content).toBe(text.slice(chunk.startOffset, chunk.endOffset));
      expect(chunk.content.length).toBeLessThanOrEqual(DEFAULT_CHUNK_OPTIONS.maxChars + 4);
      expect(chunk.content).toBe(chunk.content.trim());
    });
    // Nothing is lost: every non-space character is in some chunk.
    const covered = new Array<boolean>(text.length).fill(false);
    for (const c of chunks) for (let i = c.startOffset; i < c.endOffset; i++) covered[i] = true;
    for (let i = 0; i < text.length; i++) if (!/\s/.test(text[i]!)) expect(covered[i]).toBe(true);
  });

  it("starts a new chunk at a heading and overlaps chunks cut inside a section", () => {
    const text = [paragraph(0, 10), "## Returns", paragraph(50, 40)].join("\n\n");
    const chunks = chunkText(text);
    const returns = chunks.find((c) => c.content.startsWith("## Returns"));
    expect(returns).toBeDefined();
    const next = chunks[returns!.position];
    expect(next).toBeDefined();
    expect(next!.startOffset).toBeLessThan(returns!.endOffset);
    expect(returns!.endOffset - next!.startOffset).toBeLessThanOrEqual(DEFAULT_CHUNK_OPTIONS.overlapChars);
  });

  it("keeps a short document in one chunk and cuts text without any spaces", () => {
    expect(chunkText("Hello world.")).toEqual([{ position: 1, content: "Hello world.", startOffset: 0, endOffset: 12 }]);
    const blob = "x".repeat(5_000);
    const chunks = chunkText(blob);
    expect(chunks.map((c) => c.content).join("").length).toBeGreaterThanOrEqual(5_000);
    for (const c of chunks) expect(c.content).toBe(blob.slice(c.startOffset, c.endOffset));
  });
});
