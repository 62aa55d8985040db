import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const PROBE = `import { runtimeSecrets } from "./server/env"; const s = runtimeSecrets(); console.log(JSON.stringify({ len: s.nextAuthSecret.length, key: s.encryptionKey.length }));`;

function probe(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NEXTAUTH_|SWITCHBOARD_|DATABASE_URL$|DATABASE_POOL_SIZE$|NODE_ENV$)/.test(k)));
  return spawnSync(path.join(ROOT, "node_modules/.bin/tsx"), ["-e", PROBE], { cwd: ROOT, env: { ...clean, ...env } as NodeJS.ProcessEnv, encoding: "utf8" });
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
