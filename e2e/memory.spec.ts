import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { signIn } from "./helpers";
import { credentialFor, E2E_API_KEY } from "./server";

const auth = { authorization: `Bearer ${E2E_API_KEY}` };

interface MemoryBody {
  id: string;
  content: string;
  scope: string;
  kind: string;
  source: { runId: string | null; eventId: string | null; person: string | null };
}

async function createMemory(request: APIRequestContext, data: { content: string; scope: string; kind?: string; agent?: string; ttlDays?: number }): Promise<string> {
  const created = await request.post("/api/v1/memories", { headers: auth, data });
  expect(created.status()).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

async function searchApi(request: APIRequestContext, q: string): Promise<MemoryBody[]> {
  const response = await request.get(`/api/v1/memories?q=${encodeURIComponent(q)}&k=100`, { headers: auth });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { items: MemoryBody[] }).items;
}

async function openMemory(page: Page): Promise<void> {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Memory", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Memory", level: 1 })).toBeVisible();
}

async function search(page: Page, q: string): Promise<void> {
  await page.getByLabel("Search memories").fill(q);
  // The query follows the box once typing pauses, and lives in the URL so the search can be linked.
  await expect(page).toHaveURL(new RegExp(`[?&]q=${encodeURIComponent(q).replace(/%20/g, "\\+")}(&|$)`));
  await settled(page);
}

/** The list shows the current query's results (the previous ones stay on screen, dimmed, while it searches). */
async function settled(page: Page): Promise<void> {
  const list = page.getByRole("region", { name: "Memories" });
  await expect(list).toHaveAttribute("data-query", new URL(page.url()).search);
  await expect(list).toHaveAttribute("aria-busy", "false");
}

const toasts = (page: Page) => page.getByRole("status", { name: "Notifications" });

test("an owner searches memories with highlights, filters, adds, pins, edits with history and bulk-deletes", async ({ page, request }) => {
  test.setTimeout(120_000);
  const invoices = await createMemory(request, { content: `Quokka Logistics pays invoices by wire & cheque on "net 30" terms.`, scope: "org", kind: "fact" });
  const deliveries = await createMemory(request, { content: "Quokka Logistics prefers deliveries before 10am on weekdays.", scope: "org", kind: "preference" });

  const owner = credentialFor("OWNER");
  await signIn(page, owner.email, owner.password);
  await openMemory(page);

  // Full-text search: every word must match, and the matches are marked.
  await search(page, "quokka invoices");
  const invoiceRow = page.locator(`#memory-row-${invoices}`);
  await expect(invoiceRow).toBeVisible();
  await expect(page.locator(`#memory-row-${deliveries}`)).toHaveCount(0);
  await expect(invoiceRow.locator("mark", { hasText: "invoices" })).toBeVisible();
  await expect(invoiceRow.locator("mark", { hasText: "Quokka" })).toBeVisible();
  // The escaped text reads as written: no entities, no markup.
  await expect(invoiceRow).toContainText(`by wire & cheque on "net 30" terms.`);
  await expect(invoiceRow.getByText("Org", { exact: true })).toBeVisible();
  await expect(invoiceRow.getByText("Fact", { exact: true })).toBeVisible();
  await expect(invoiceRow).toContainText("Whole org");
  await expect(invoiceRow).toContainText("Added by you");
  await expect(invoiceRow).toContainText("just now");
  await page.screenshot({ path: "test-results/screens/memory-search.png", fullPage: true });

  // Filters narrow the results; the kind filter leaves only the preference.
  await search(page, "quokka");
  await expect(invoiceRow).toBeVisible();
  await expect(page.locator(`#memory-row-${deliveries}`)).toBeVisible();
  await page.getByLabel("Filter by kind").selectOption("PREFERENCE");
  await settled(page);
  await expect(page).toHaveURL(/kind=preference/);
  await expect(invoiceRow).toHaveCount(0);
  await expect(page.locator(`#memory-row-${deliveries}`)).toContainText("Preference");
  await page.getByLabel("Filter by scope").selectOption("USER");
  await settled(page);
  await expect(page.getByRole("heading", { name: "No memories match “quokka”" })).toBeVisible();
  await page.getByRole("button", { name: "Clear filters" }).first().click();
  await settled(page);
  await expect(page).not.toHaveURL(/kind=/);
  await expect(invoiceRow).toBeVisible();

  // Add a memory for one agent, with a time to live.
  await page.getByRole("button", { name: "Add memory" }).click();
  const addDialog = page.getByRole("dialog", { name: "Add a memory" });
  await addDialog.getByRole("button", { name: "Add memory" }).click();
  await expect(addDialog.getByText("Write what agents should remember.")).toBeVisible();
  await addDialog.getByLabel("What should agents remember?").fill("Quokka Logistics' account manager is Priya Nair.");
  await addDialog.getByLabel("Scope", { exact: true }).selectOption("AGENT");
  await addDialog.getByLabel("Agent", { exact: true }).selectOption({ label: "Email drafter" });
  await addDialog.getByLabel(/Forget after/).fill("30");
  await page.screenshot({ path: "test-results/screens/memory-add.png" });
  await addDialog.getByRole("button", { name: "Add memory" }).click();
  await expect(toasts(page)).toContainText("Memory added");
  await expect(addDialog).toBeHidden();
  const added = page.getByRole("row").filter({ hasText: "account manager is Priya Nair" });
  await expect(added).toBeVisible();
  await expect(added.getByText("Agent", { exact: true })).toBeVisible();
  await expect(added).toContainText("Email drafter");
  await expect(added).toContainText("expires in 30 d");

  // Pin it: pinned memories are recalled first, and the "Pinned only" filter finds them.
  await added.getByRole("button", { name: /^Pin:/ }).click();
  await expect(toasts(page)).toContainText("Pinned");
  await expect(added.getByText("Pinned", { exact: true })).toBeVisible();
  await page.getByLabel("Pinned only").check();
  await settled(page);
  await expect(page).toHaveURL(/pinned=1/);
  await expect(invoiceRow).toHaveCount(0);
  await expect(added).toBeVisible();
  await page.getByLabel("Pinned only").uncheck();
  await settled(page);
  await expect(invoiceRow).toBeVisible();

  // Edit it: the earlier wording is kept as history.
  await added.getByRole("button", { name: /^Edit:/ }).click();
  const editDialog = page.getByRole("dialog", { name: "Edit memory" });
  await expect(editDialog.getByRole("note")).toContainText("The current wording is kept in this memory’s history");
  await editDialog.getByLabel("Memory", { exact: true }).fill("Quokka Logistics' account manager is Tom Okafor since March.");
  await page.screenshot({ path: "test-results/screens/memory-edit.png" });
  await editDialog.getByRole("button", { name: "Save changes" }).click();
  await expect(toasts(page)).toContainText("Memory updated");
  const edited = page.getByRole("row").filter({ hasText: "account manager is Tom Okafor" });
  await expect(edited).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: "Priya Nair" })).toHaveCount(0);

  await edited.getByRole("link", { name: /^Open memory:/ }).click();
  await expect(page).toHaveURL(/\/memory\/[a-z0-9]+$/);
  await expect(page.getByTestId("memory-content")).toHaveText("Quokka Logistics' account manager is Tom Okafor since March.");
  const history = page.getByRole("region", { name: "History" });
  await expect(history).toContainText("Quokka Logistics' account manager is Priya Nair.");
  await expect(history).toContainText("Replaced by you");
  await expect(page.getByRole("region", { name: "Supersedes" })).toContainText("It replaced no other memory.");
  await page.screenshot({ path: "test-results/screens/memory-detail.png", fullPage: true });

  // Bulk delete: tick two rows, confirm with the count.
  await page.getByRole("link", { name: "← All memories" }).click();
  await search(page, "quokka");
  await invoiceRow.getByRole("checkbox").check();
  await page.locator(`#memory-row-${deliveries}`).getByRole("checkbox").check();
  await page.getByRole("button", { name: "Delete selected (2)" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete 2 memories?" });
  await expect(confirm).toContainText("removed for good");
  await page.screenshot({ path: "test-results/screens/memory-bulk-delete.png" });
  await confirm.getByRole("button", { name: "Delete 2 memories" }).click();
  await expect(toasts(page)).toContainText("Deleted 2 memories");
  await expect(invoiceRow).toHaveCount(0);
  await expect(page.locator(`#memory-row-${deliveries}`)).toHaveCount(0);
  await expect(page.getByRole("row").filter({ hasText: "Tom Okafor" })).toBeVisible();
  const left = await searchApi(request, "quokka");
  expect(left.map((memory) => memory.id)).not.toContain(invoices);
  expect(left.map((memory) => memory.id)).not.toContain(deliveries);
});

test("provenance: a memory the concierge wrote links to the exact run step; deleted, search no longer finds it", async ({ page, request }) => {
  test.setTimeout(120_000);
  const started = await request.post("/api/v1/runs", { headers: auth, data: { agent: "concierge", input: "Remember that I prefer email over phone calls." } });
  expect(started.status()).toBe(201);
  const runId = ((await started.json()) as { id: string }).id;
  await expect
    .poll(async () => ((await (await request.get(`/api/v1/runs/${runId}`, { headers: auth })).json()) as { status: string }).status, { timeout: 60_000, intervals: [500] })
    .toBe("succeeded");
  const written = (await searchApi(request, "email")).find((memory) => memory.source.runId === runId);
  expect(written, "the concierge's run wrote a memory").toBeTruthy();
  const { id: memoryId, source } = written!;
  expect(source.eventId).toBeTruthy();

  const owner = credentialFor("OWNER");
  await signIn(page, owner.email, owner.password);
  await openMemory(page);
  await search(page, "email");
  const row = page.locator(`#memory-row-${memoryId}`);
  await expect(row).toContainText("I prefer email over phone calls");
  await expect(row.locator("mark", { hasText: /^email$/i })).toBeVisible();
  await expect(row.getByText("Preference", { exact: true })).toBeVisible();
  await page.screenshot({ path: "test-results/screens/memory-provenance.png", fullPage: true });

  // Source: the exact step of the run that wrote it.
  const sourceLink = row.getByRole("link", { name: /^Run / });
  await expect(sourceLink).toHaveAttribute("href", `/runs/${runId}#event-${source.eventId}`);
  await sourceLink.click();
  await expect(page).toHaveURL(new RegExp(`/runs/${runId}#event-${source.eventId}$`));
  const step = page.locator(`[id="event-${source.eventId}"]`);
  await expect(step).toBeVisible({ timeout: 15_000 });
  await expect(step).toContainText(/Memory write|remember/);
  await step.scrollIntoViewIfNeeded();
  await page.screenshot({ path: "test-results/screens/memory-provenance-run.png" });

  // And back: the run's citation opens the memory's own page, whose source is that same step.
  await page.getByRole("link", { name: `[memory:${memoryId}]` }).first().click();
  await expect(page).toHaveURL(new RegExp(`/memory/${memoryId}$`));
  await expect(page.getByTestId("memory-content")).toHaveText("I prefer email over phone calls.");
  await expect(page.getByRole("article", { name: "Memory" }).getByRole("link", { name: /^Run / })).toHaveAttribute("href", `/runs/${runId}#event-${source.eventId}`);
  await expect(page.getByRole("region", { name: "History" })).toContainText("Never edited");
  await page.screenshot({ path: "test-results/screens/memory-provenance-detail.png", fullPage: true });

  // Delete it from the browser: search finds it no more, in the console or through the API.
  await page.goto("/memory?q=email");
  await settled(page);
  await row.getByRole("button", { name: /^Delete:/ }).click();
  const confirm = page.getByRole("dialog", { name: "Delete this memory?" });
  await expect(confirm).toContainText("I prefer email over phone calls");
  await confirm.getByRole("button", { name: "Delete memory" }).click();
  await expect(toasts(page)).toContainText("Memory deleted");
  await expect(row).toHaveCount(0);
  await page.reload();
  await expect(page.getByLabel("Search memories")).toHaveValue("email");
  await expect(page.locator(`#memory-row-${memoryId}`)).toHaveCount(0);
  expect((await searchApi(request, "email")).map((memory) => memory.id)).not.toContain(memoryId);
  const gone = await request.get(`/api/v1/memories?q=${encodeURIComponent("phone calls")}`, { headers: auth });
  expect(((await gone.json()) as { items: MemoryBody[] }).items.some((memory) => memory.id === memoryId)).toBe(false);
  await page.screenshot({ path: "test-results/screens/memory-after-delete.png", fullPage: true });
});

test("a member searches memories but cannot change them, and never sees someone else's personal memories", async ({ page, request }) => {
  const shared = await createMemory(request, { content: "Wombat Supplies closes for stocktaking on the last Friday of each month.", scope: "org", kind: "fact" });
  // A personal memory of the key's owner: nobody else but admins may see it.
  const personal = await createMemory(request, { content: "Wombat Supplies calls should go to my mobile, not the office line.", scope: "user", kind: "preference" });

  const member = credentialFor("MEMBER");
  await signIn(page, member.email, member.password);
  await openMemory(page);
  await expect(page.getByRole("button", { name: "Add memory" })).toHaveCount(0);
  await search(page, "wombat");
  const row = page.locator(`#memory-row-${shared}`);
  await expect(row).toBeVisible();
  await expect(page.locator(`#memory-row-${personal}`)).toHaveCount(0);
  await expect(row.getByRole("checkbox")).toHaveCount(0);
  await expect(row.getByRole("button")).toHaveCount(0);
  await page.screenshot({ path: "test-results/screens/memory-member.png", fullPage: true });

  // Opening the personal memory by its address reads as if it did not exist.
  await page.goto(`/memory/${personal}`);
  await expect(page.getByRole("heading", { name: "This memory is not here" })).toBeVisible();
});

test("pages of results load with Show more, and select-all deletes every memory shown", async ({ page, request }) => {
  test.setTimeout(90_000);
  for (let i = 1; i <= 27; i++) {
    await createMemory(request, { content: `Numbat depot ${i} opens at ${(i % 4) + 6}am.`, scope: "org", kind: "fact" });
  }
  const owner = credentialFor("OWNER");
  await signIn(page, owner.email, owner.password);
  await openMemory(page);
  await search(page, "numbat depot");
  const rows = page.getByRole("table").getByRole("row").filter({ hasText: "Numbat depot" });
  await expect(rows).toHaveCount(25);
  await expect(page.getByText("showing 25")).toBeVisible();
  await page.getByRole("button", { name: "Show more" }).click();
  await expect(rows).toHaveCount(27);
  await expect(page.getByRole("button", { name: "Show more" })).toHaveCount(0);
  await expect(page.getByText("27 memories")).toBeVisible();

  await page.getByRole("checkbox", { name: "Select all shown memories" }).check();
  await page.getByRole("button", { name: "Delete selected (27)" }).click();
  await page.getByRole("dialog", { name: "Delete 27 memories?" }).getByRole("button", { name: "Delete 27 memories" }).click();
  await expect(toasts(page)).toContainText("Deleted 27 memories");
  await expect(page.getByRole("heading", { name: "No memories match “numbat depot”" })).toBeVisible();
  expect(await searchApi(request, "numbat")).toEqual([]);
});

test("a near-duplicate written by a later run supersedes the older memory, which the browser shows when asked", async ({ page, request }) => {
  test.setTimeout(120_000);
  const runIds: string[] = [];
  for (let i = 0; i < 2; i++) {
    const started = await request.post("/api/v1/runs", { headers: auth, data: { agent: "concierge", input: "Remember that I want invoices as PDF attachments." } });
    expect(started.status()).toBe(201);
    const runId = ((await started.json()) as { id: string }).id;
    await expect
      .poll(async () => ((await (await request.get(`/api/v1/runs/${runId}`, { headers: auth })).json()) as { status: string }).status, { timeout: 60_000, intervals: [500] })
      .toBe("succeeded");
    runIds.push(runId);
  }

  const owner = credentialFor("OWNER");
  await signIn(page, owner.email, owner.password);
  await openMemory(page);
  await search(page, "invoices pdf");
  const rows = page.getByRole("table").getByRole("row").filter({ hasText: "I want invoices as PDF attachments." });
  // Only the newer one is current: it comes from the second run.
  await expect(rows).toHaveCount(1);
  await expect(rows.getByRole("link", { name: /^Run / })).toHaveAttribute("href", new RegExp(`^/runs/${runIds[1]}#event-`));

  await page.getByLabel("Show superseded").check();
  await settled(page);
  await expect(rows).toHaveCount(2);
  const older = rows.filter({ has: page.getByText("superseded", { exact: true }) });
  await expect(older).toHaveCount(1);
  await expect(older.getByRole("link", { name: /^Run / })).toHaveAttribute("href", new RegExp(`^/runs/${runIds[0]}#event-`));
  await page.screenshot({ path: "test-results/screens/memory-superseded.png", fullPage: true });

  // The current memory's page lists what it replaced; the older one's page points to its replacement.
  await rows.filter({ hasNot: page.getByText("superseded", { exact: true }) }).getByRole("link", { name: /^Open memory:/ }).click();
  await expect(page.getByRole("region", { name: "Supersedes" })).toContainText("I want invoices as PDF attachments.");
  await page.getByRole("region", { name: "Supersedes" }).getByRole("link").click();
  await expect(page.getByRole("note")).toContainText("A newer, near-identical memory replaced this one");
  await expect(page.getByRole("article", { name: "Memory" }).getByRole("link", { name: /^Run / })).toHaveAttribute("href", new RegExp(`^/runs/${runIds[0]}#event-`));
  await page.screenshot({ path: "test-results/screens/memory-superseded-detail.png", fullPage: true });
});
