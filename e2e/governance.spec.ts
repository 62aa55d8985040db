import path from "node:path";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { readDemoLedger } from "../mcp-servers/demo/ledger";
import { signIn } from "./helpers";
import { credentialFor, E2E_API_KEY, readServerState } from "./server";

const auth = { authorization: `Bearer ${E2E_API_KEY}` };

interface RunBody {
  id: string;
  status: string;
  output: string | null;
}

async function startRun(request: APIRequestContext, input: string): Promise<string> {
  const created = await request.post("/api/v1/runs", { headers: auth, data: { agent: "refund-agent", input } });
  expect(created.status()).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

async function waitForStatus(request: APIRequestContext, id: string, status: string | RegExp): Promise<RunBody> {
  let run: RunBody | undefined;
  await expect
    .poll(async () => {
      run = (await (await request.get(`/api/v1/runs/${id}`, { headers: auth })).json()) as RunBody;
      return run.status;
    }, { timeout: 30_000, intervals: [250] })
    .toMatch(status);
  return run!;
}

test("a supervisor edits a held refund down to $200 and approves it; the run goes on with the approved amount", async ({ page, request }) => {
  const id = await startRun(request, "Please refund order 1001 for $250");
  // $250 is above the default "Refunds over $100 need approval" policy: the run parks on a person.
  await waitForStatus(request, id, "waiting_approval");

  const supervisor = credentialFor("SUPERVISOR");
  await signIn(page, supervisor.email, supervisor.password);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByTestId("pending-approvals-count")).toBeVisible({ timeout: 10_000 });
  await nav.getByRole("link", { name: /Approvals/ }).click();
  await expect(page.getByRole("heading", { name: "Approvals" })).toBeVisible();
  await expect(page.getByRole("tab", { name: /Pending/ })).toHaveAttribute("aria-selected", "true");

  const card = page.getByRole("article").filter({ has: page.getByRole("link", { name: `Open run ${id}` }) });
  await expect(card).toBeVisible();
  await expect(card.getByText("issue_refund", { exact: true })).toBeVisible();
  await expect(card.getByText("Refund agent")).toBeVisible();
  await expect(card.getByText(credentialFor("OWNER").email)).toBeVisible();
  await expect(card.getByText("Rule: Refunds over $100 need approval")).toBeVisible();
  await expect(card.getByText('"amountUsd": 250')).toBeVisible();
  await expect(card.getByRole("definition").filter({ hasText: "Amount to refund in US dollars" })).toBeVisible();
  await expect(card.getByText(/^waiting (a few seconds|\d+ s|\d+ min)$/)).toBeVisible();
  await expect(card.getByText(/^expires in /)).toBeVisible();
  await page.screenshot({ path: "test-results/screens/approvals-pending.png", fullPage: true });

  await card.getByRole("button", { name: "Edit & approve…" }).click();
  const dialog = page.getByRole("dialog", { name: /Edit & approve issue_refund/ });
  const editor = dialog.getByLabel("Arguments (JSON)");
  const original = await editor.inputValue();
  expect(original).toContain('"amountUsd": 250');
  await editor.fill(original.replace('"amountUsd": 250', '"amountUsd": 200'));
  const diff = dialog.getByRole("table", { name: "Your changes" });
  await expect(diff.getByRole("row").filter({ hasText: '"amountUsd": 250' })).toContainText("−");
  await expect(diff.getByRole("row").filter({ hasText: '"amountUsd": 200' })).toContainText("+");
  await page.screenshot({ path: "test-results/screens/approvals-edit.png", fullPage: true });
  await dialog.getByRole("button", { name: "Approve with these arguments" }).click();

  await expect(page.getByRole("status", { name: "Notifications" })).toContainText("Approved issue_refund with your changes");
  await expect(dialog).toBeHidden();
  await expect(card).toHaveCount(0);
  await expect(nav.getByTestId("pending-approvals-count")).toHaveCount(0);

  await page.getByRole("tab", { name: /Decided/ }).click();
  const decided = page.getByRole("article").filter({ has: page.getByRole("link", { name: `Open run ${id}` }) });
  await expect(decided.getByText("approved with edits")).toBeVisible();
  await expect(decided.getByRole("table", { name: "Requested vs approved arguments" })).toContainText('"amountUsd": 200');

  const finished = await waitForStatus(request, id, /^(succeeded|failed|halted)$/);
  expect(finished.status).toBe("succeeded");

  await page.goto(`/runs/${id}`);
  await expect(page.getByRole("heading", { name: /Refund agent/ })).toContainText("succeeded");
  const timeline = page.getByRole("region", { name: "Timeline" });
  await expect(timeline.getByText(`Approved with edited arguments by ${supervisor.email}`)).toBeVisible();
  await expect(timeline.getByRole("table", { name: "Requested vs approved" })).toContainText('"amountUsd": 200');
  await expect(timeline.getByText("Run finished")).toBeVisible();
  // The tool ran with the approved arguments: its step (not the approval's) shows 200 in its arguments and result.
  await timeline.getByTitle("issue_refund", { exact: true }).click();
  const step = timeline.getByRole("listitem").filter({ has: page.getByTitle("issue_refund", { exact: true }) });
  const result = step.locator("div").filter({ has: page.getByText("Result", { exact: true }) }).locator("pre").last();
  await expect(result).toContainText('"amountUsd": 200');
  await expect(result).toContainText('"status": "refunded"');
  // The agent's answer reports what the tool did, so it names the approved amount, not the requested one.
  expect(finished.output).toBe("Refunded $200 on order 1001 for Jane Cooper.");
  await expect(page.getByText("Refunded $200 on order 1001 for Jane Cooper.")).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: "test-results/screens/run-approved.png", fullPage: true });

  const ledger = readDemoLedger(path.join(readServerState().dataDir, "demo-mcp", "ledger.jsonl"));
  const refunds = ledger.filter((e) => e.kind === "refund" && e.idempotencyKey?.startsWith(`${id}:`));
  expect(refunds).toHaveLength(1);
  expect(refunds[0]).toMatchObject({ orderId: "1001", amountUsd: 200 });
});

test("a member sees the approval queue read-only: no approve, edit or reject buttons", async ({ page, request }) => {
  const id = await startRun(request, "Please refund order 1002 for $180");
  await waitForStatus(request, id, "waiting_approval");

  const member = credentialFor("MEMBER");
  await signIn(page, member.email, member.password);
  await page.goto("/approvals");
  await expect(page.getByRole("note")).toContainText("deciding needs a supervisor, admin or owner");
  const card = page.getByRole("article").filter({ has: page.getByRole("link", { name: `Open run ${id}` }) });
  await expect(card).toBeVisible();
  await expect(card.getByText('"amountUsd": 180')).toBeVisible();
  await expect(page.getByRole("button", { name: "Approve", exact: true })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Edit & approve/ })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Reject/ })).toHaveCount(0);
  await page.screenshot({ path: "test-results/screens/approvals-member.png", fullPage: true });

  // The run page tells them what it waits for and where to look.
  await page.goto(`/runs/${id}`);
  await expect(page.getByText("This run is waiting for approval")).toBeVisible();
  await expect(page.getByRole("link", { name: "View the approval" })).toHaveAttribute("href", /\/approvals#approval-/);

  // Leave nothing pending for the flows after this one: reject it over REST; the agent carries on without the call.
  const approvals = (await (await request.get(`/api/v1/approvals?status=pending&runId=${id}`, { headers: auth })).json()) as { items: { id: string }[] };
  expect(approvals.items).toHaveLength(1);
  const rejected = await request.post(`/api/v1/approvals/${approvals.items[0]!.id}`, { headers: auth, data: { decision: "reject", comment: "Not in this test." } });
  expect(rejected.status()).toBe(200);
  await waitForStatus(request, id, /^(succeeded|failed|halted)$/);
});

test("an owner allow-lists private hosts for tool servers; an entry that is not a host is refused with a message", async ({ page }) => {
  const owner = credentialFor("OWNER");
  await signIn(page, owner.email, owner.password);
  await page.goto("/admin/policies");
  const hosts = page.getByLabel("Private hosts tool servers may use");
  await expect(hosts).toBeVisible({ timeout: 15_000 });

  await hosts.fill("http://mcp.internal:8080/path");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText("“http://mcp.internal:8080/path” is not a host name, IP address or CIDR range", { exact: false }).first()).toBeVisible();

  // WHATWG spellings are stored normalised: 0x7f.1 is 127.0.0.1.
  await hosts.fill("mcp.internal\n0x7f.1\n10.0.0.0/24");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText("Saved the governance settings")).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("Private hosts tool servers may use")).toHaveValue("mcp.internal\n127.0.0.1\n10.0.0.0/24");
  await page.getByLabel("Private hosts tool servers may use").scrollIntoViewIfNeeded();
  await page.screenshot({ path: "test-results/screens/governance-egress.png", fullPage: true });

  // Leave the demo organisation as it was: public tool servers only.
  await page.getByLabel("Private hosts tool servers may use").fill("");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText("Saved the governance settings").first()).toBeVisible();
});
