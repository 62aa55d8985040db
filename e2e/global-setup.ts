import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { E2E_PORT } from "../playwright.config";
import { parseCredentials, STATE_DIR, STATE_FILE, type ServerState } from "./server";

// Playwright runs from the project root (it loads these files as CommonJS, so no import.meta).
const ROOT = process.cwd();
const START_TIMEOUT_MS = 6 * 60_000;

/**
 * Exactly what a newcomer does: `npm start` on a fresh embedded data folder with no database server involved.
 * The demo credentials are read from what it prints, as a person would read them.
 */
export default async function globalSetup(): Promise<void> {
  const dataDir = path.join(ROOT, "data", `e2e-${Date.now()}`);
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(E2E_PORT), SWITCHBOARD_DATA_DIR: dataDir };
  for (const name of ["DATABASE_URL", "NEXTAUTH_URL", "NEXTAUTH_SECRET", "SWITCHBOARD_ENCRYPTION_KEY", "SWITCHBOARD_INIT_ADMIN_EMAIL", "SWITCHBOARD_INIT_ADMIN_PASSWORD", "SWITCHBOARD_INIT_API_KEY"]) {
    delete env[name];
  }
  const server = spawn("npm", ["start"], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const logFile = fs.createWriteStream(path.join(STATE_DIR, "server.log"));
  server.stdout.on("data", (chunk: Buffer) => { output += chunk.toString(); logFile.write(chunk); });
  server.stderr.on("data", (chunk: Buffer) => { logFile.write(chunk); });

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`npm start exited with ${server.exitCode}; see ${STATE_DIR}/server.log`);
    if (Date.now() > deadline) throw new Error(`npm start did not become healthy in time; see ${STATE_DIR}/server.log`);
    try {
      const response = await fetch(`http://localhost:${E2E_PORT}/api/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const state: ServerState = { pid: server.pid ?? -1, dataDir, credentials: parseCredentials(output) };
  fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
  server.unref();
}
