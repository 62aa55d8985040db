import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";
import { credentialFor, E2E_API_KEY } from "./server";

const auth = { authorization: `Bearer ${E2E_API_KEY}` };

interface RunBody {
  id: string;
  status: string;
  output: string | null;
  error: string | null;
  steps: { seq: number; type: string; name: string; status: string }[];
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
}

test("a run started over REST finishes with model and filesystem tool steps, tokens and cost, and the run page shows it", async ({ page, request }) => {
  const started = Date.now();
  const created = await request.post("/api/v1/runs", { headers: auth, data: { agent: "file-researcher", input: "What is our refund policy?" } });
  expect(created.status()).toBe(201);
  const { id, status } = (await created.json()) as { id: string; status: string };
  expect(status).toBe("queued");

  let run: RunBody | undefined;
  await expect
    .poll(async () => {
      run = (await (await request.get(`/api/v1/runs/${id}`, { headers: auth })).json()) as RunBody;
      return run.status;
    }, { timeout: 30_000, intervals: [250] })
    .toBe("succeeded");
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(run!.steps.some((s) => s.type === "model" && s.status === "ok")).toBe(true);
  expect(run!.steps.filter((s) => s.type === "tool").map((s) => s.name)).toEqual(["list_directory", "read_text_file"]);
  expect(run!.usage.inputTokens).toBeGreaterThan(0);
  expect(run!.usage.costUsd).toBeGreaterThan(0);
  expect(run!.output).toContain("refund-policy.md");

  const trace = (await (await request.get(`/api/v1/runs/${id}/trace`, { headers: auth })).json()) as { events: { type: string; payload: { server?: string } }[] };
  expect(trace.events.filter((e) => e.type === "tool").every((e) => e.payload.server === "filesystem")).toBe(true);

  const admin = credentialFor("OWNER");
  await signIn(page, admin.email, admin.password);
  await page.goto(`/runs/${id}`);
  await expect(page.getByRole("heading", { name: /File researcher/ })).toBeVisible();
  await expect(page.getByText("succeeded").first()).toBeVisible();
  const timeline = page.getByRole("region", { name: "Timeline" });
  await expect(timeline.getByTitle("list_directory")).toBeVisible();
  await timeline.getByRole("button", { name: /read_text_file/ }).click();
  await expect(timeline.getByText("Arguments")).toBeVisible();
  await page.screenshot({ path: "test-results/screens/run-page.png", fullPage: true });
});

test("a supervisor starts a run from the console and watches the timeline fill in", async ({ page }) => {
  const supervisor = credentialFor("SUPERVISOR");
  await signIn(page, supervisor.email, supervisor.password);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Runs" }).click();
  await page.getByRole("button", { name: "Start run" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Agent").selectOption("refund-agent");
  await dialog.getByLabel("Input").fill("Please refund order 1002 for $20, the chair arrived scratched.");
  await dialog.getByRole("button", { name: "Start run" }).click();
  await expect(page).toHaveURL(/\/runs\/[a-z0-9]+$/);
  const timeline = page.getByRole("region", { name: "Timeline" });
  // The scripted model paces its turns, so the steps appear one after another while the page is open.
  await expect(timeline.getByTitle("lookup_order")).toBeVisible({ timeout: 15_000 });
  await page.screenshot({ path: "test-results/screens/run-live.png", fullPage: true });
  await expect(timeline.getByTitle("issue_refund")).toBeVisible({ timeout: 15_000 });
  await expect(page.getByText("Refunded $20 on order 1002 for Rahul Mehta.")).toBeVisible({ timeout: 15_000 });
  await expect(timeline.getByText("Run finished")).toBeVisible();
  await page.screenshot({ path: "test-results/screens/run-finished.png", fullPage: true });
});
