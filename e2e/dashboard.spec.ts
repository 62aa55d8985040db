import { expect, test, type Page } from "@playwright/test";
import { signIn } from "./helpers";
import { credentialFor, E2E_API_KEY } from "./server";

const auth = { authorization: `Bearer ${E2E_API_KEY}` };

/** The number a stat card shows (the card's number is a link to the list it counts). */
async function statValue(page: Page, testId: string): Promise<number> {
  return Number((await page.getByTestId(testId).innerText()).replaceAll(",", ""));
}

test("the dashboard counts runs live, charts their tokens and outcomes, and its numbers open the filtered runs list", async ({ page, request }) => {
  const supervisor = credentialFor("SUPERVISOR");
  await signIn(page, supervisor.email, supervisor.password);
  await expect(page.getByRole("heading", { name: /Welcome, Sam/ })).toBeVisible();
  await expect(page.getByTestId("stat-running-now")).toBeVisible();
  const runsBefore = Number((await page.getByRole("region", { name: /Runs · last 24 hours/ }).getByRole("definition").first().innerText()).replaceAll(",", ""));

  // A run finishes while the page is open: the page refreshes itself and counts it, with no reload.
  const created = await request.post("/api/v1/runs", { headers: auth, data: { agent: "file-researcher", input: "What is our refund policy?" } });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  await expect
    .poll(async () => ((await (await request.get(`/api/v1/runs/${id}`, { headers: auth })).json()) as { status: string }).status, { timeout: 30_000 })
    .toBe("succeeded");
  const performance = page.getByRole("region", { name: /Runs · last 24 hours/ });
  await expect(performance.getByRole("definition").first()).toHaveText(String(runsBefore + 1), { timeout: 15_000 });

  // Real charts: stacked bars of cost by model, and of runs by outcome.
  const usage = page.getByRole("figure", { name: /Cost by model, last 24 hours/ });
  await expect(usage.locator(".recharts-bar-rectangle").first()).toBeVisible();
  await expect(page.getByText("scripted-v1").first()).toBeVisible();
  await page.getByRole("group", { name: "Measure" }).getByRole("button", { name: "Tokens" }).click();
  await page.getByRole("group", { name: "Group" }).getByRole("button", { name: "By agent" }).click();
  await expect(page.getByRole("figure", { name: /Tokens by agent, last 24 hours/ }).locator(".recharts-bar-rectangle").first()).toBeVisible();
  const outcomes = page.getByRole("figure", { name: /Runs by outcome, last 24 hours/ });
  await expect(outcomes.locator(".recharts-bar-rectangle").first()).toBeVisible();
  await expect(outcomes.getByText(/^Succeeded/)).toBeVisible();

  await page.getByRole("group", { name: "Range" }).getByRole("button", { name: "7 days" }).click();
  await expect(page.getByRole("region", { name: /Runs · last 7 days/ })).toBeVisible();
  await page.screenshot({ path: "test-results/screens/dashboard-live.png", fullPage: true });

  // Every headline number opens the runs list filtered to exactly what it counts.
  const failed = await statValue(page, "stat-failed-in-the-last-24-h");
  await page.getByTestId("stat-failed-in-the-last-24-h").click();
  await expect(page).toHaveURL(/\/runs\?status=FAILED&period=24h$/);
  await expect(page.getByLabel("Filter by status")).toHaveValue("FAILED");
  await expect(page.getByLabel("Filter by time")).toHaveValue("24h");
  if (failed === 0) await expect(page.getByText("No runs match")).toBeVisible();
  else await expect(page.getByRole("table", { name: "Runs" }).getByRole("row")).toHaveCount(Math.min(failed, 25) + 1);

  // An agent in the usage breakdown opens that agent's runs.
  await page.goto("/");
  await page.getByRole("group", { name: "Group" }).getByRole("button", { name: "By agent" }).click();
  await page.getByRole("link", { name: "File researcher" }).click();
  await expect(page).toHaveURL(/\/runs\?agent=/);
  await expect(page.getByLabel("Filter by agent").locator("option:checked")).toHaveText("File researcher");
  await expect(page.getByRole("link", { name: id.slice(-8) })).toBeVisible();
});
