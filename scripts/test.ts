import { spawnSync } from "node:child_process";
import path from "node:path";

/**
 * `npm test`: every tier, in order, stopping at the first failure. Integration tests run on the embedded
 * database and on PostgreSQL (DATABASE_URL_TEST); the security suite and a small chaos run follow; the browser tests
 * run against a real `npm start`.
 */
const ROOT = path.resolve(import.meta.dirname, "..");
const bin = (name: string) => path.join(ROOT, "node_modules/.bin", name);

const steps: { name: string; command: string; args: string[]; env?: Record<string, string> }[] = [
  { name: "typecheck", command: bin("tsc"), args: ["--noEmit"] },
  { name: "lint", command: bin("eslint"), args: [".", "--max-warnings", "0"] },
  { name: "migrations capture the schema", command: bin("tsx"), args: ["scripts/migrate.ts", "check"] },
  { name: "unit tests", command: bin("vitest"), args: ["run", "--project", "unit"] },
  { name: "integration tests (embedded + PostgreSQL)", command: bin("vitest"), args: ["run", "--project", "integration"] },
  { name: "security suite (npm run security)", command: bin("tsx"), args: ["scripts/security.ts"] },
  // The CI-sized chaos run (the full one is `npm run chaos`: 200 runs, 20 worker kills).
  { name: "chaos (50 runs, 6 worker kills, 2 connection drops, 2 MCP server kills)", command: bin("tsx"), args: ["scripts/chaos.ts"], env: { CHAOS_RUNS: "50", CHAOS_KILLS: "6", CHAOS_DROPS: "2", CHAOS_MCP_KILLS: "2" } },
  { name: "browser tests (Playwright, Chromium)", command: bin("playwright"), args: ["test"] },
];

const only = process.argv.slice(2);
const started = Date.now();
for (const step of steps) {
  if (only.length > 0 && !only.some((filter) => step.name.includes(filter))) continue;
  const stepStarted = Date.now();
  console.log(`\n━━ ${step.name} ━━`);
  const result = spawnSync(step.command, step.args, {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", CHECKPOINT_DISABLE: "1", VITE_CONFIG_NATIVE_IGNORE_WARNING: "true", ...step.env },
  });
  if (result.status !== 0) {
    console.error(`\n✗ ${step.name} failed (exit ${result.status ?? result.signal}).`);
    process.exit(result.status ?? 1);
  }
  console.log(`✓ ${step.name} (${((Date.now() - stepStarted) / 1000).toFixed(1)} s)`);
}
console.log(`\nAll tests passed in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
