import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";
import { credentialFor, E2E_API_KEY } from "./server";

const auth = { authorization: `Bearer ${E2E_API_KEY}` };

/** Enough sections that the answer lands in a passage well below the first. */
function guide(marker: string): string {
  const filler = (topic: string) =>
    Array.from({ length: 6 }, (_, i) => `Step ${i + 1} of the ${topic} checklist keeps the crew safe and the customer informed about what happens next.`).join("\n\n");
  return [
    "# Gazebo assembly guide",
    "How our installers put up the garden gazebo, from unpacking to handover.",
    "## Unpacking",
    filler("unpacking"),
    "## Frame",
    filler("frame"),
    "## Anchoring",
    `Anchor every leg with the four ${marker} tent pegs from the hardware bag, driven in at 45 degrees. In soft ground use the long pegs instead.`,
    filler("anchoring"),
  ].join("\n\n");
}

/** A real one-page PDF with a text layer (xref offsets computed, as readers check them). */
function tinyPdf(line: string): Buffer {
  const content = `BT /F1 12 Tf 72 720 Td (${line}) Tj ET`;
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
  return Buffer.from(pdf, "latin1");
}

test("a supervisor uploads a Markdown guide, searches it and follows the citation to the passage", async ({ page }) => {
  const marker = `quokka${Date.now().toString(36)}`;
  const supervisor = credentialFor("SUPERVISOR");
  await signIn(page, supervisor.email, supervisor.password);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Knowledge" }).click();
  await expect(page.getByRole("heading", { name: "Knowledge", level: 1 })).toBeVisible();

  // The demo seed's support collection is there.
  const collections = page.getByRole("navigation", { name: "Collections" });
  await expect(collections.getByRole("button", { name: /support/ })).toBeVisible();
  await expect(page.getByRole("link", { name: "Refund policy" })).toBeVisible();
  await page.screenshot({ path: "test-results/screens/knowledge-list.png", fullPage: true });

  const form = page.getByRole("form", { name: "Upload a document" });
  await form.getByLabel("Collection").fill("installers");
  await form.getByLabel("File").setInputFiles({ name: "gazebo-guide.md", mimeType: "text/markdown", buffer: Buffer.from(guide(marker)) });
  await form.getByRole("button", { name: "Upload" }).click();
  await expect(page.getByText("Added “Gazebo assembly guide”")).toBeVisible();
  await expect(page.getByRole("link", { name: "Gazebo assembly guide" })).toBeVisible();
  await expect(collections.getByRole("button", { name: /installers/ })).toBeVisible();

  await page.getByRole("searchbox", { name: "Search knowledge" }).fill(`${marker} tent pegs`);
  const hit = page.getByTestId("knowledge-hit").first();
  await expect(hit).toContainText("Gazebo assembly guide");
  await expect(hit.locator("mark").first()).toBeVisible();
  await expect(hit.locator("mark", { hasText: marker })).toBeVisible();
  await page.screenshot({ path: "test-results/screens/knowledge-search.png", fullPage: true });

  const link = hit.getByRole("link", { name: /Gazebo assembly guide · passage \d+/ });
  const href = await link.getAttribute("href");
  const position = /#chunk-(\d+)$/.exec(href ?? "")?.[1];
  expect(Number(position)).toBeGreaterThan(1);
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/knowledge/[^/#]+#chunk-${position}$`));
  await expect(page.getByRole("heading", { name: "Gazebo assembly guide", level: 1 })).toBeVisible();
  const passage = page.locator(`#chunk-${position}`);
  await expect(passage).toContainText(`${marker} tent pegs`);
  await expect(passage).toHaveAttribute("data-targeted", "true");
  await expect(passage).toBeInViewport();
  await page.screenshot({ path: "test-results/screens/knowledge-document.png" });

  // Opening the citation link directly (a new tab, a link in a run) lands on the same passage.
  await page.goto(href!);
  await expect(page.locator(`#chunk-${position}`)).toBeInViewport();
  await expect(page.locator(`#chunk-${position}`)).toHaveAttribute("data-targeted", "true");

  // Deleting the document takes its passages out of search.
  await page.goto("/knowledge");
  await page.getByRole("button", { name: "Delete Gazebo assembly guide" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("cannot be undone");
  await dialog.getByRole("button", { name: "Delete document" }).click();
  await expect(page.getByRole("link", { name: "Gazebo assembly guide" })).toHaveCount(0);
  await page.getByRole("searchbox", { name: "Search knowledge" }).fill(`${marker} tent pegs`);
  await expect(page.getByText("No passage matches")).toBeVisible();
});

test("machines upload a PDF over REST and search it", async ({ request }) => {
  const word = `zephyr${Date.now().toString(36)}`;
  const created = await request.post("/api/v1/knowledge/documents", {
    headers: auth,
    multipart: { collection: "manuals", file: { name: "dock-safety.pdf", mimeType: "application/pdf", buffer: tinyPdf(`Dock doors close at six; the ${word} alarm sounds before.`) } },
  });
  expect(created.status()).toBe(201);
  const { id, chunks } = (await created.json()) as { id: string; chunks: number };
  expect(chunks).toBe(1);

  const search = await request.get(`/api/v1/knowledge/search?q=${word}%20alarm&k=3`, { headers: auth });
  expect(search.status()).toBe(200);
  const { items } = (await search.json()) as { items: { documentId: string; title: string; position: number; content: string }[] };
  expect(items[0]).toMatchObject({ documentId: id, title: "dock-safety", position: 1 });
  expect(items[0]?.content).toContain(`the ${word} alarm sounds`);

  const refused = await request.post("/api/v1/knowledge/documents", {
    headers: auth,
    multipart: { collection: "manuals", file: { name: "photo.png", mimeType: "image/png", buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47]) } },
  });
  expect(refused.status()).toBe(400);
});
