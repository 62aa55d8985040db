import fs from "node:fs";
import { readServerState, STATE_FILE } from "./server";

export default function globalTeardown(): void {
  if (!fs.existsSync(STATE_FILE)) return;
  const { pid, dataDir } = readServerState();
  try {
    // npm start was spawned detached: kill its whole process group (npm → tsx → next).
    process.kill(-pid, "SIGTERM");
  } catch {
    // already gone
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}
