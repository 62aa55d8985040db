import { expect, test, type APIRequestContext } from "@playwright/test";
import { signIn } from "./helpers";
import { credentialFor, E2E_API_KEY } from "./server";

const auth = { authorization: `Bearer ${E2E_API_KEY}` };
const FEEDBACK = "Please mention the tracking number is in the shipping email.";

interface InboxSummaryBody {
  id: string;
  runId: string;
  title: string;
  status: string;
  revision: number;
}

async function startDrafter(request: APIRequestContext, input?: string): Promise<string> {
  const created = await request.post("/api/v1/runs", { headers: auth, data: { agent: "email-drafter", ...(input ? { input } : {}) } });
  expect(created.status()).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

/** The inbox item a run submitted, once it is there. */
async function waitForItem(request: APIRequestContext, runId: string, status = "pending"): Promise<InboxSummaryBody> {
  let found: InboxSummaryBody | undefined;
  await expect
    .poll(async () => {
      const list = (await (await request.get(`/api/v1/inbox?status=${status}`, { headers: auth })).json()) as { items: InboxSummaryBody[] };
      found = list.items.find((item) => item.runId === runId);
      return Boolean(found);
    }, { timeout: 30_000, intervals: [250] })
    .toBe(true);
  return found!;
}

test("a supervisor sends a drafted reply back with feedback, compares revision 2 and accepts it; the run sends it", async ({ page, request }) => {
  test.setTimeout(120_000);
  const runId = await startDrafter(request);

  const supervisor = credentialFor("SUPERVISOR");
  await signIn(page, supervisor.email, supervisor.password);
  const nav = page.getByRole("navigation", { name: "Main" });
  // The sidebar counts drafts nobody has opened yet.
  await expect(nav.getByTestId("inbox-unread-count")).toBeVisible({ timeout: 30_000 });
  await nav.getByRole("link", { name: /Inbox/ }).click();
  await expect(page.getByRole("heading", { name: "Inbox", level: 1 })).toBeVisible();
  await expect(page.getByRole("tab", { name: /Open/ })).toHaveAttribute("aria-selected", "true");

  const item = await waitForItem(request, runId);
  const row = page.locator(`#inbox-row-${item.id}`);
  await expect(row).toBeVisible({ timeout: 15_000 });
  await expect(row).toContainText("Re: Where are my chairs?");
  await expect(row).toContainText("Email drafter");
  await expect(row).toContainText("rev 1");
  await expect(row).toContainText(/waiting (a few seconds|\d+ s|\d+ min)/);
  await expect(row).toHaveAttribute("data-unread", "true");
  await page.screenshot({ path: "test-results/screens/inbox-list.png", fullPage: true });

  // Open it: the draft rendered, what accepting does, and the context it came from.
  await row.click();
  await expect(page).toHaveURL(new RegExp(`/inbox/${item.id}`));
  const review = page.getByRole("article", { name: "Draft: Re: Where are my chairs?" });
  const draft = review.getByRole("region", { name: "Draft, revision 1" });
  await expect(draft).toContainText("Hi Rahul Mehta,");
  await expect(draft).toContainText("rahul.mehta@example.com");
  await expect(draft.locator("strong", { hasText: "shipped" })).toBeVisible();
  await expect(review.getByTestId("inbox-commit-action")).toHaveText(
    "Accepting sends an email to rahul.mehta@example.com with subject “Re: Where are my chairs?” via send_email. The text you accept goes in as body.",
  );
  const context = review.getByRole("region", { name: "Context" });
  await expect(context.getByText("read_customer_email", { exact: true })).toBeVisible();
  await context.getByText("lookup_order", { exact: true }).click();
  await expect(context).toContainText('"customer": "Rahul Mehta"');
  await expect(context.getByRole("link", { name: /in the run/ }).first()).toHaveAttribute("href", new RegExp(`^/runs/${runId}#event-`));
  // Opening it marked it read: the row loses its dot, the sidebar shows it waiting (grey) rather than unread.
  await expect(row).not.toHaveAttribute("data-unread", "true", { timeout: 10_000 });
  await expect(nav.getByTestId("inbox-unread-count")).toHaveCount(0, { timeout: 10_000 });
  await expect(nav.getByTestId("inbox-pending-count")).toBeVisible();
  await page.screenshot({ path: "test-results/screens/inbox-review.png", fullPage: true });

  // r opens the feedback box with the cursor in it.
  await page.keyboard.press("r");
  const feedback = review.getByLabel("What should change?");
  await expect(feedback).toBeFocused();
  await review.getByRole("button", { name: "Send back for changes" }).click();
  await expect(review.getByText("Say what should change: the agent revises the draft from your feedback.")).toBeVisible();
  await feedback.fill(FEEDBACK);
  await page.screenshot({ path: "test-results/screens/inbox-request-changes.png", fullPage: true });
  await review.getByRole("button", { name: "Send back for changes" }).click();
  await expect(page.getByRole("status", { name: "Notifications" })).toContainText("Sent back to Email drafter");

  // The agent revises (the scripted model appends the note) and revision 2 shows up by itself.
  const revised = review.getByRole("region", { name: "Draft, revision 2" });
  await expect(revised).toBeVisible({ timeout: 30_000 });
  await expect(revised).toContainText(FEEDBACK);
  await expect(revised.getByText("Revised after this feedback on revision 1")).toBeVisible();
  await revised.getByRole("button", { name: "Changes", exact: true }).click();
  const diff = revised.getByRole("table", { name: "Changes from revision 1 to 2" });
  await expect(diff.getByRole("row").filter({ hasText: FEEDBACK })).toContainText("+");
  const revisions = review.getByRole("region", { name: "Revisions" });
  await expect(revisions).toContainText("Changes requested");
  await expect(revisions).toContainText(FEEDBACK);
  await expect(page.locator(`#inbox-row-${item.id}`)).toContainText("rev 2");
  await page.screenshot({ path: "test-results/screens/inbox-revision-2.png", fullPage: true });

  // a accepts the revision on screen; the page follows the run until it has sent the email.
  await page.keyboard.press("a");
  await expect(page.getByRole("status", { name: "Notifications" })).toContainText("Accepted revision 2");
  await expect(review.getByRole("status").filter({ hasText: "Revision 2 accepted by you" })).toBeVisible();
  await expect(review.getByTestId("inbox-run-output")).toHaveText("The reply to Rahul Mehta was accepted (revision 2).", { timeout: 30_000 });
  await expect(review.getByText("send_email", { exact: true })).toBeVisible();
  await page.screenshot({ path: "test-results/screens/inbox-accepted.png", fullPage: true });

  const run = (await (await request.get(`/api/v1/runs/${runId}`, { headers: auth })).json()) as { status: string; output: string | null };
  expect(run.status).toBe("succeeded");
  expect(run.output).toBe("The reply to Rahul Mehta was accepted (revision 2).");
  const accepted = await waitForItem(request, runId, "accepted");
  expect(accepted).toMatchObject({ id: item.id, status: "accepted", revision: 2 });

  // It left the open queue and is listed under Accepted.
  await expect(page.locator(`#inbox-row-${item.id}`)).toHaveCount(0, { timeout: 10_000 });
  await page.getByRole("tab", { name: "Accepted" }).click();
  await expect(page).toHaveURL(/status=accepted/);
  await expect(page.locator(`#inbox-row-${item.id}`)).toContainText("accepted");
});

test("a member reads a draft but cannot decide it; a discarded draft ends the run without sending", async ({ page, request }) => {
  const runId = await startDrafter(request, "m-2038");
  const item = await waitForItem(request, runId);

  const member = credentialFor("MEMBER");
  await signIn(page, member.email, member.password);
  await page.goto(`/inbox/${item.id}`);
  const review = page.getByRole("article", { name: "Draft: Re: Monitor arm order" });
  await expect(review.getByRole("region", { name: "Draft, revision 1" })).toContainText("Hi Liam O'Brien,");
  await expect(review.getByText("You can read this draft, but deciding needs a supervisor, admin or owner.")).toBeVisible();
  await expect(review.getByRole("button", { name: "Accept" })).toHaveCount(0);
  await expect(review.getByRole("button", { name: /Request changes/ })).toHaveCount(0);
  // Only a reviewer opening it marks it read: it stays unread for them.
  await expect(page.locator(`#inbox-row-${item.id}`)).toHaveAttribute("data-unread", "true");
  // Shortcuts do nothing for someone who may not decide.
  await page.keyboard.press("d");
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await page.screenshot({ path: "test-results/screens/inbox-member.png", fullPage: true });

  const decided = await request.post(`/api/v1/inbox/${item.id}`, { headers: auth, data: { decision: "discard" } });
  expect(decided.status()).toBe(200);
  await expect(review.getByRole("status").filter({ hasText: /Discarded by / })).toContainText("Nothing was sent", { timeout: 10_000 });
  await expect
    .poll(async () => ((await (await request.get(`/api/v1/runs/${runId}`, { headers: auth })).json()) as { status: string }).status, { timeout: 30_000, intervals: [250] })
    .toBe("succeeded");
});
