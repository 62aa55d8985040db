import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { E2E_PORT } from "../playwright.config";
import { E2E_API_KEY, parseCredentials, STATE_DIR, STATE_FILE, type ServerState } from "./server";

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
  const settings = { PORT: String(E2E_PORT), SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_INIT_API_KEY: E2E_API_KEY };
  const { server, output } = await startServer(serverEnv(settings));
  const state: ServerState = { pid: server.pid ?? -1, dataDir, env: settings, credentials: parseCredentials(output) };
  fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
  server.unref();
}

/** This shell's environment without anything that would point the server away from its fresh embedded default. */
export function serverEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ["DATABASE_URL", "NEXTAUTH_URL", "NEXTAUTH_SECRET", "SWITCHBOARD_ENCRYPTION_KEY", "SWITCHBOARD_INIT_ADMIN_EMAIL", "SWITCHBOARD_INIT_ADMIN_PASSWORD", "SWITCHBOARD_INIT_API_KEY"]) {
    delete env[name];
  }
  return { ...env, ...settings };
}

/** Starts `npm start` detached (its own process group, so tests can kill the whole tree) and waits until healthy. */
export async function startServer(env: NodeJS.ProcessEnv): Promise<{ server: ReturnType<typeof spawn>; output: string }> {
  // Output goes straight to a file, not a pipe: the server outlives the process that started it, and a pipe
  // nobody reads would block (or break) its writes.
  const logPath = path.join(STATE_DIR, "server.log");
  const logStart = fs.existsSync(logPath) ? fs.statSync(logPath).size : 0;
  const logFd = fs.openSync(logPath, "a");
  const server = spawn("npm", ["start"], { cwd: ROOT, env, detached: true, stdio: ["ignore", logFd, logFd] });
  fs.closeSync(logFd);

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
  // logStart is a byte offset and the log holds multi-byte characters (┌ ✓ ▲): cut the bytes, then decode.
  const output = fs.readFileSync(logPath).subarray(logStart).toString("utf8");
  return { server, output };
}
