import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { readDemoLedger } from "../mcp-servers/demo/ledger";
import { serverEnv, startServer } from "./global-setup";
import { signIn } from "./helpers";
import { credentialFor, E2E_API_KEY, readServerState, STATE_FILE, type ServerState } from "./server";

// Named zz- so it runs last: it kills the server every other flow shares.

const auth = { authorization: `Bearer ${E2E_API_KEY}` };

interface RunBody {
  id: string;
  status: string;
  output: string | null;
  steps: { seq: number; type: string; name: string; status: string }[];
}

test("npm start killed with SIGKILL mid-run: after a restart the run completes, each tool call once, data intact", async ({ page, request }) => {
  test.setTimeout(8 * 60_000);
  const state = readServerState();
  const runsBefore = ((await (await request.get("/api/v1/runs?limit=100", { headers: auth })).json()) as { items: { id: string }[] }).items.map((r) => r.id);
  expect(runsBefore.length).toBeGreaterThan(0);

  const created = await request.post("/api/v1/runs", { headers: auth, data: { agent: "refund-agent", input: "Refund order 1003 for $15, it arrived late." } });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };

  // Kill the whole process tree (npm → tsx → next, and its MCP servers) as soon as the first tool call is done:
  // the refund and the final answer are still ahead, so the run is mid-flight.
  await expect
    .poll(async () => {
      const run = (await (await request.get(`/api/v1/runs/${id}`, { headers: auth })).json()) as RunBody;
      return run.steps.some((s) => s.type === "tool" && s.status === "ok");
    }, { timeout: 30_000, intervals: [50] })
    .toBe(true);
  process.kill(-state.pid, "SIGKILL");
  await expect.poll(() => isAlive(state.pid), { timeout: 10_000 }).toBe(false);

  const { server } = await startServer(serverEnv(state.env));
  const restarted: ServerState = { ...state, pid: server.pid ?? -1 };
  fs.writeFileSync(STATE_FILE, JSON.stringify(restarted, null, 2));
  server.unref();

  let run: RunBody | undefined;
  await expect
    .poll(async () => {
      run = (await (await request.get(`/api/v1/runs/${id}`, { headers: auth })).json()) as RunBody;
      return run.status;
    }, { timeout: 60_000, intervals: [250] })
    .toBe("succeeded");
  expect(run!.output).toBe("Refunded $15 on order 1003 for Sofia Alvarez.");
  const toolSteps = run!.steps.filter((s) => s.type === "tool");
  expect(toolSteps.map((s) => `${s.name}:${s.status}`)).toEqual(["lookup_order:ok", "issue_refund:ok"]);
  // The trace shows the interruption: the new server's worker picked the run up where the old one stopped.
  expect(run!.steps.filter((s) => s.type === "run_resumed")).toHaveLength(1);

  const refunds = readDemoLedger(path.join(state.dataDir, "demo-mcp", "ledger.jsonl")).filter((e) => e.kind === "refund" && e.idempotencyKey?.startsWith(`${id}:`));
  expect(refunds).toHaveLength(1);
  expect(refunds[0]).toMatchObject({ orderId: "1003", amountUsd: 15 });

  // The data folder survived: every earlier run is still there, and people can still sign in.
  const runsAfter = ((await (await request.get("/api/v1/runs?limit=100", { headers: auth })).json()) as { items: { id: string }[] }).items.map((r) => r.id);
  expect(runsAfter).toEqual(expect.arrayContaining([...runsBefore, id]));
  const owner = credentialFor("OWNER");
  await signIn(page, owner.email, owner.password);
  await page.goto(`/runs/${id}`);
  await expect(page.getByRole("region", { name: "Timeline" }).getByText("Run resumed")).toBeVisible();
  await page.screenshot({ path: "test-results/screens/run-resumed.png", fullPage: true });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
