import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Keep only the tail of a worker's output: a long chaos run must not grow memory without bound. */
const OUTPUT_LIMIT = 256 * 1024;

export interface WorkerProcessOptions {
  /** PostgreSQL URL the worker claims runs from (its DATABASE_URL). */
  databaseUrl: string;
  /** SWITCHBOARD_DATA_DIR of the worker: where MCP servers it starts may keep files. */
  dataDir: string;
  /** Only runs of these organisations (`--orgs`); default every organisation. */
  orgIds?: string[];
  leaseMs?: number;
  heartbeatMs?: number;
  /** `--poll-ms`: how often the idle worker looks for runs. */
  pollMs?: number;
  concurrency?: number;
  /** SWITCHBOARD_LOG_LEVEL of the worker; default "warn". */
  logLevel?: string;
  /** Extra environment variables for the worker. */
  env?: Record<string, string>;
  /** Also copy the worker's stderr to ours as it comes (default true), e.g. false for a chaos run's noise. */
  echoStderr?: boolean;
  readyTimeoutMs?: number;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** The id the worker printed in its "ready" line (the one it writes into run events and leases). */
  workerId: string;
  /** Settles when the process has exited, however it ended. */
  exited: Promise<WorkerExit>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** Its stdout and stderr so far, interleaved as they arrived (the last 256 KB). */
  output(): string;
  /** Sends the signal and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<WorkerExit>;
  /** Graceful stop: SIGTERM (the worker drains) and wait for the exit; nothing if it has already exited. */
  stop(): Promise<WorkerExit>;
}

/**
 * A real `npm run worker` process (server/runtime/main.ts) on a PostgreSQL database. Resolves once the worker has
 * printed that it is ready, so a caller never races a worker that is still starting.
 */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const flags: string[] = [];
  if (options.leaseMs !== undefined) flags.push("--lease-ms", String(options.leaseMs));
  if (options.heartbeatMs !== undefined) flags.push("--heartbeat-ms", String(options.heartbeatMs));
  if (options.pollMs !== undefined) flags.push("--poll-ms", String(options.pollMs));
  if (options.concurrency !== undefined) flags.push("--concurrency", String(options.concurrency));
  if (options.orgIds?.length) flags.push("--orgs", options.orgIds.join(","));
  // node itself with tsx's loader, not `npm run worker` or the tsx CLI: both run the script in a child process, so a
  // SIGKILL would hit the wrapper and leave the real worker running as an orphan.
  const child = spawn(process.execPath, ["--import", "tsx", "server/runtime/main.ts", ...flags], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      SWITCHBOARD_DATA_DIR: options.dataDir,
      SWITCHBOARD_LOG_LEVEL: options.logLevel ?? "warn",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error("Could not start a worker process (node did not spawn).");
  const pid = child.pid;

  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > OUTPUT_LIMIT * 2) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  if (options.echoStderr ?? true) child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));

  let exitInfo: WorkerExit | undefined;
  const exited = new Promise<WorkerExit>((resolve) => {
    child.once("exit", (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });

  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const workerId = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`The worker did not report ready within ${readyTimeoutMs / 1000} s. Its output:\n${output}`));
    }, readyTimeoutMs);
    const onData = () => {
      const ready = /worker (\S+) ready/.exec(output);
      if (!ready) return;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      resolve(ready[1]!);
    };
    child.stdout?.on("data", onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`The worker exited (${signal ?? `code ${code}`}) before it was ready. Its output:\n${output}`));
    });
  });

  const kill = async (signal: NodeJS.Signals): Promise<WorkerExit> => {
    if (!exitInfo) child.kill(signal);
    return exited;
  };
  return {
    child,
    pid,
    workerId,
    exited,
    hasExited: () => exitInfo !== undefined,
    output: () => output,
    kill,
    stop: () => kill("SIGTERM"),
  };
}
