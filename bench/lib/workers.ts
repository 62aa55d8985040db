import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

/** The last `worker-stats` line a worker printed (see --stats-ms in server/runtime/main.ts). */
export interface WorkerStats {
  workerId: string;
  activeRuns: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface BenchWorker {
  child: ChildProcess;
  workerId: string;
  /** Every stats line so far, oldest first. */
  stats: WorkerStats[];
  stop(): Promise<void>;
}

/**
 * A real `npm run worker` process. The benches need flags server/testing/worker-process.ts does not pass
 * (--max-runs-per-org, --stats-ms), hence this small spawner; like that helper it runs node with tsx's loader (not
 * the tsx CLI, whose extra process would outlive a killed worker) and resolves once the worker says it is ready.
 */
export async function startBenchWorker(options: { databaseUrl: string; dataDir: string; flags: string[]; env?: Record<string, string> }): Promise<BenchWorker> {
  // BENCH_WORKER_NODE_FLAGS: extra node flags for the workers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them.
  const nodeFlags = (process.env.BENCH_WORKER_NODE_FLAGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", "server/runtime/main.ts", ...options.flags], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: options.databaseUrl, SWITCHBOARD_DATA_DIR: options.dataDir, SWITCHBOARD_LOG_LEVEL: "warn", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stats: WorkerStats[] = [];
  let output = "";
  let pending = "";
  child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
  child.stdout?.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    if (output.length < 64 * 1024) output += text;
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (line.startsWith("worker-stats ")) stats.push(JSON.parse(line.slice("worker-stats ".length)) as WorkerStats);
    }
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const workerId = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`The worker did not report ready within 60 s. Its output:\n${output}`));
    }, 60_000);
    const onData = () => {
      const ready = /worker (\S+) ready/.exec(output);
      if (!ready) return;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      resolve(ready[1] ?? "");
    };
    child.stdout?.on("data", onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`The worker exited before it was ready. Its output:\n${output}`));
    });
  });
  return {
    child,
    workerId,
    stats,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
