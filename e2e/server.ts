import fs from "node:fs";
import path from "node:path";

// One state folder per port, so flows run against different servers at once (E2E_PORT) never share one.
export const STATE_DIR = path.resolve(process.env.E2E_PORT ? `test-results/e2e-state-${process.env.E2E_PORT}` : "test-results/e2e-state");
export const STATE_FILE = path.join(STATE_DIR, "server.json");

/** Created by headless init (SWITCHBOARD_INIT_API_KEY) alongside the demo users, for the REST flows. */
export const E2E_API_KEY = "sb_e2e_0123456789abcdefghijklmnop";

export interface DemoCredential {
  role: string;
  email: string;
  password: string;
}

export interface ServerState {
  pid: number;
  dataDir: string;
  /** What the server was started with, so a test can restart it the same way. */
  env: Record<string, string>;
  credentials: DemoCredential[];
}

export function readServerState(): ServerState {
  return JSON.parse(fs.readFileSync(STATE_FILE, "utf8")) as ServerState;
}

export function credentialFor(role: string): DemoCredential {
  const credential = readServerState().credentials.find((c) => c.role === role);
  if (!credential) throw new Error(`npm start printed no ${role} credentials`);
  return credential;
}

/** Parses the sign-in table `npm start` prints once when it creates the demo users. */
export function parseCredentials(output: string): DemoCredential[] {
  const credentials: DemoCredential[] = [];
  for (const match of output.matchAll(/^\s+(OWNER|ADMIN|SUPERVISOR|MEMBER)\s+(\S+@\S+)\s+(\S+)\s*$/gm)) {
    const [, role, email, password] = match;
    if (role && email && password) credentials.push({ role, email, password });
  }
  return credentials;
}
