import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";
import { credentialFor, E2E_API_KEY } from "./server";

const auth = { authorization: `Bearer ${E2E_API_KEY}` };

test("an owner schedules an agent, creates a webhook and a POST to it starts a run", async ({ page, request }) => {
  const agent = (await (await request.get("/api/v1/agents/file-researcher", { headers: auth })).json()) as { id: string };
  const admin = credentialFor("OWNER");
  await signIn(page, admin.email, admin.password);
  await page.goto(`/agents/${agent.id}`);

  const schedule = page.getByRole("region", { name: "Schedule" });
  const expression = schedule.getByLabel("Cron expression");
  await expression.fill("*/10 * * * * *");
  await expect(schedule.getByText(/at most once a minute/)).toBeVisible();
  await expression.fill("0 9 * * 1-5");
  const preview = schedule.getByRole("list", { name: "Next runs" });
  await expect(preview.getByRole("listitem")).toHaveCount(3);
  await expect(preview).toContainText("09:00");
  await page.screenshot({ path: "test-results/screens/triggers-schedule-preview.png", fullPage: true });
  await schedule.getByRole("button", { name: "Save schedule" }).click();
  await expect(page.getByRole("status", { name: "Notifications" })).toContainText("Schedule saved");
  await expect(schedule).toContainText("0 9 * * 1-5");
  await expect(schedule).toContainText(`on behalf of ${admin.email}`);
  await expect(schedule.getByRole("list", { name: "Next runs" }).getByRole("listitem")).toHaveCount(3);

  const webhook = page.getByRole("region", { name: "Webhook" });
  await webhook.getByRole("button", { name: "Create webhook URL" }).click();
  const dialog = page.getByRole("dialog", { name: "Copy the webhook URL" });
  const url = await dialog.getByLabel("Webhook URL").inputValue();
  expect(url).toMatch(new RegExp(`/api/hooks/agents/${agent.id}/whk_[A-Za-z0-9_-]{43}$`));
  await expect(dialog.getByText(/^curl -X POST/)).toContainText(url);
  await page.screenshot({ path: "test-results/screens/triggers-webhook-created.png", fullPage: true });
  await dialog.getByRole("button", { name: "I have stored it" }).click();
  await expect(dialog).toBeHidden();
  await expect(webhook).toContainText(`on behalf of ${admin.email}`);
  await expect(page.getByRole("textbox", { name: "Webhook URL", exact: true })).toHaveCount(0);

  const called = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question: "What is the refund policy?" }) });
  expect(called.status).toBe(201);
  const { id } = (await called.json()) as { id: string };
  const wrong = await fetch(url.replace(/whk_.{4}/, "whk_AAAA"), { method: "POST", body: "{}" });
  expect(wrong.status).toBe(404);

  await page.goto("/runs");
  const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: id.slice(-8) }) });
  await expect(row).toContainText("via webhook");
  await expect(row).toContainText('"question": "What is the refund policy?"');
  await page.screenshot({ path: "test-results/screens/triggers-runs-list.png", fullPage: true });
  await row.getByRole("link", { name: id.slice(-8) }).click();
  await expect(page.getByRole("heading", { name: /File researcher/ })).toContainText("succeeded", { timeout: 30_000 });

  // Leave the demo org as it was: no schedule firing during later flows, no live webhook.
  await page.goto(`/agents/${agent.id}`);
  page.on("dialog", (confirm) => void confirm.accept());
  await schedule.getByRole("button", { name: "Clear schedule" }).click();
  await expect(page.getByRole("status", { name: "Notifications" })).toContainText("Schedule cleared");
  await expect(schedule.getByRole("textbox", { name: "Cron expression" })).toHaveValue("");
  await webhook.getByRole("button", { name: "Revoke" }).click();
  await expect(webhook).toContainText("No webhook");
  expect((await fetch(url, { method: "POST", body: "{}" })).status).toBe(404);
});

test("a member sees an agent's triggers but cannot change them", async ({ page }) => {
  const member = credentialFor("MEMBER");
  await signIn(page, member.email, member.password);
  await page.goto("/agents");
  await page.getByRole("link", { name: "Refund agent" }).click();
  const schedule = page.getByRole("region", { name: "Schedule" });
  await expect(schedule).toContainText("No schedule");
  await expect(schedule.getByRole("textbox")).toHaveCount(0);
  await expect(schedule.getByRole("button")).toHaveCount(0);
  await expect(page.getByRole("region", { name: "Webhook" })).toContainText("No webhook");
  await expect(page.getByRole("region", { name: "Webhook" }).getByRole("button")).toHaveCount(0);
});
