import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";
import { credentialFor } from "./server";

test.describe("a fresh `npm start`", () => {
  test("serves the sign-in page and the seeded admin signs in", async ({ page }) => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/sign-in/);
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
    const admin = credentialFor("OWNER");
    await signIn(page, admin.email, admin.password);
    await expect(page.getByRole("heading", { name: /Welcome, Ada/ })).toBeVisible();
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const area of ["Dashboard", "Inbox", "Approvals", "Runs", "Agents", "Memory", "Knowledge", "Tools", "Admin", "Audit"]) {
      await expect(nav.getByRole("link", { name: area })).toBeVisible();
    }
    await page.screenshot({ path: "test-results/screens/dashboard.png", fullPage: true });
  });

  test("a wrong password gets one generic message", async ({ page }) => {
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill("admin@acme.test");
    await page.getByLabel("Password").fill("definitely-wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByText("Email or password is incorrect.")).toBeVisible();
  });

  test("a member sees no admin navigation and cannot open admin pages", async ({ page }) => {
    const member = credentialFor("MEMBER");
    await signIn(page, member.email, member.password);
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav.getByRole("link", { name: "Runs" })).toBeVisible();
    await expect(nav.getByRole("link", { name: "Admin" })).toHaveCount(0);
    await expect(nav.getByRole("link", { name: "Audit" })).toHaveCount(0);
    const response = await page.goto("/admin/members");
    expect(response?.status()).toBe(404);
  });

  test("an admin invites a member who sets a password and signs in", async ({ page, browser }) => {
    const admin = credentialFor("OWNER");
    await signIn(page, admin.email, admin.password);
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("button", { name: "Invite member" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Email").fill("not-an-email");
    await dialog.getByRole("button", { name: "Create invitation" }).click();
    await expect(dialog.getByText("Enter a valid email address.")).toBeVisible();
    await dialog.getByLabel("Email").fill("newcomer@acme.test");
    await dialog.getByLabel("Role").selectOption("SUPERVISOR");
    await dialog.getByRole("button", { name: "Create invitation" }).click();
    const link = await dialog.getByLabel("Set-password link").inputValue();
    expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{20,}$/);
    await page.screenshot({ path: "test-results/screens/invite-link.png" });

    const invitee = await browser.newPage();
    await invitee.goto(link);
    await expect(invitee.getByText("newcomer@acme.test")).toBeVisible();
    await invitee.getByLabel("Your name").fill("Nico Newcomer");
    await invitee.getByLabel("Password", { exact: true }).fill("a-good-long-password");
    await invitee.getByLabel("Confirm password").fill("a-good-long-password");
    await invitee.getByRole("button", { name: "Set password and join" }).click();
    await expect(invitee.getByText("Your password is set")).toBeVisible();
    await invitee.goto("/sign-in");
    await invitee.getByLabel("Email").fill("newcomer@acme.test");
    await invitee.getByLabel("Password").fill("a-good-long-password");
    await invitee.getByRole("button", { name: "Sign in" }).click();
    await expect(invitee.getByText("newcomer@acme.test · Supervisor")).toBeVisible();
  });

  test("an admin creates an API key, sees it once, and it works against the REST API", async ({ page, request }) => {
    const admin = credentialFor("OWNER");
    await signIn(page, admin.email, admin.password);
    await page.goto("/admin/api-keys");
    await page.getByRole("button", { name: "Create key" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("CI pipeline");
    await dialog.getByRole("button", { name: "Create key" }).click();
    const key = await dialog.getByLabel("API key").inputValue();
    expect(key).toMatch(/^sb_/);
    await page.screenshot({ path: "test-results/screens/api-key-created.png" });
    await dialog.getByRole("button", { name: "I have stored it" }).click();
    await expect(page.getByRole("cell", { name: /CI pipeline/ })).toBeVisible();
    await expect(page.getByText(key)).toHaveCount(0);

    const me = await request.get("/api/v1/me", { headers: { authorization: `Bearer ${key}` } });
    expect(me.status()).toBe(200);
    expect(((await me.json()) as { org: { name: string } }).org.name).toBe("Acme Corp");
    const forbidden = await request.get("/api/v1/api-keys", { headers: { authorization: `Bearer ${key}` } });
    expect(forbidden.status()).toBe(403);
  });
});
