import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const PROBE = `import { runtimeSecrets } from "./server/env"; const s = runtimeSecrets(); console.log(JSON.stringify({ len: s.nextAuthSecret.length, key: s.encryptionKey.length }));`;

function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NEXTAUTH_|SWITCHBOARD_|DATABASE_URL$|DATABASE_POOL_SIZE$|NODE_ENV$)/.test(k)));
  return { ...clean, ...env } as NodeJS.ProcessEnv;
}

function probe(env: Record<string, string>) {
  return spawnSync(path.join(ROOT, "node_modules/.bin/tsx"), ["-e", PROBE], { cwd: ROOT, env: cleanEnv(env), encoding: "utf8" });
}

/** Waits until START_AT (so processes that started at different speeds read the secrets in the same instant), then prints the key. */
const RACING_PROBE = `import { runtimeSecrets } from "./server/env"; const at = Number(process.env.START_AT); while (Date.now() < at) {} console.log(runtimeSecrets().encryptionKey.toString("hex"));`;

function racingProbe(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(path.join(ROOT, "node_modules/.bin/tsx"), ["-e", RACING_PROBE], { cwd: ROOT, env: cleanEnv(env) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stdout: stdout.trim(), stderr }));
  });
}

describe("runtime secrets", () => {
  it("refuses to start in production on PostgreSQL without NEXTAUTH_SECRET and the encryption key", () => {
    const result = probe({ NODE_ENV: "production", DATABASE_URL: "postgresql://x@127.0.0.1:5432/x" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("refuses to start in production without NEXTAUTH_SECRET and SWITCHBOARD_ENCRYPTION_KEY");
  });

  it("generates them once into the data folder on the embedded default and reuses them", () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-env-"));
    const first = probe({ SWITCHBOARD_DATA_DIR: dataDir });
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ len: 64, key: 32 });
    const file = path.join(dataDir, "secrets.json");
    const stored = fs.readFileSync(file, "utf8");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(probe({ SWITCHBOARD_DATA_DIR: dataDir }).status).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toBe(stored);
  });

  it("gives processes starting together on a fresh data folder the same secrets, never a half-written file", async () => {
    // Two `npm run worker` started at once on the embedded default's folder: each must read the other's whole file.
    for (let round = 0; round < 2; round += 1) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-env-race-"));
      const startAt = String(Date.now() + 4_000);
      const results = await Promise.all(Array.from({ length: 6 }, () => racingProbe({ SWITCHBOARD_DATA_DIR: dataDir, START_AT: startAt })));
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      expect(new Set(results.map((result) => result.stdout)).size).toBe(1);
      expect(fs.readdirSync(dataDir)).toEqual(["secrets.json"]);
    }
  }, 60_000);

  it("explains a malformed setting instead of starting", () => {
    const result = probe({ DATABASE_URL: "mysql://nope" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("DATABASE_URL must be a postgresql:// URL");
    const pool = probe({ DATABASE_POOL_SIZE: "lots" });
    expect(pool.status).not.toBe(0);
    expect(pool.stderr).toContain("DATABASE_POOL_SIZE must be a whole number of connections");
    expect(probe({ DATABASE_POOL_SIZE: "1" }).stderr).toContain("DATABASE_POOL_SIZE must be at least 2");
  });
});
