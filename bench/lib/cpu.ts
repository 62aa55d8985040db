import fs from "node:fs";
import os from "node:os";

/**
 * Where a case's CPU time went, read from /proc (Linux; elsewhere every figure is null): the processes driving the
 * runs (`kernel`: the given roots — worker processes, or this process for in-process cases), the tool servers they
 * started (`tools`: the roots' descendants), PostgreSQL (every process whose command line starts with "postgres":
 * backends, WAL writer, checkpointer), and the machine as a whole (busy time of every core, from /proc/stat).
 *
 * Processes are sampled every 200 ms and each one's first and last reading counted, so a process that exits during
 * the case still counts up to its last sample.
 */
export interface CpuBreakdown {
  /** CPU seconds. */
  kernel: number;
  tools: number;
  postgres: number;
  /** Busy CPU seconds of the whole machine (every process, including this bench and unrelated services). */
  machine: number;
  /** Seconds the measurement lasted. */
  wallSeconds: number;
  cores: number;
}

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux whatever the kernel's HZ). */
const TICKS_PER_SECOND = 100;
const SAMPLE_MS = 200;

interface ProcessReading {
  ppid: number;
  ticks: number;
  postgres: boolean;
}

function readProcesses(): Map<number, ProcessReading> {
  const readings = new Map<number, ProcessReading>();
  for (const entry of fs.readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      // The command name (field 2) may hold spaces and parentheses: fields are counted after its closing one.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      readings.set(pid, { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), postgres: cmdline.startsWith("postgres") });
    } catch {
      // The process exited between the listing and the read.
    }
  }
  return readings;
}

function machineBusyTicks(): number {
  const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
}

/** `withPostgres`: whether PostgreSQL serves the case (an in-process database's CPU is the kernel's). */
export function startCpuMeter(roots: () => readonly number[], withPostgres: boolean): { stop(): CpuBreakdown | null } {
  if (process.platform !== "linux" || !fs.existsSync("/proc/stat")) return { stop: () => null };
  const first = new Map<number, number>();
  const last = new Map<number, { ticks: number; group: "kernel" | "tools" | "postgres" | null }>();
  const startedAt = performance.now();
  const machineBefore = machineBusyTicks();
  let samples = 0;
  const sample = () => {
    const processes = readProcesses();
    const initial = samples++ === 0;
    const rootSet = new Set(roots());
    const groupOf = (pid: number): "kernel" | "tools" | "postgres" | null => {
      if (rootSet.has(pid)) return "kernel";
      if (processes.get(pid)?.postgres) return withPostgres ? "postgres" : null;
      for (let parent = processes.get(pid)?.ppid, hops = 0; parent && hops < 16; parent = processes.get(parent)?.ppid, hops++) {
        if (rootSet.has(parent)) return "tools";
      }
      return null;
    };
    for (const [pid, reading] of processes) {
      // A process first seen mid-case started during it: everything it used counts.
      if (!first.has(pid)) first.set(pid, initial ? reading.ticks : 0);
      last.set(pid, { ticks: reading.ticks, group: groupOf(pid) });
    }
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const seconds = { kernel: 0, tools: 0, postgres: 0 };
      for (const [pid, reading] of last) {
        if (reading.group) seconds[reading.group] += (reading.ticks - (first.get(pid) ?? 0)) / TICKS_PER_SECOND;
      }
      return {
        ...seconds,
        machine: (machineBusyTicks() - machineBefore) / TICKS_PER_SECOND,
        wallSeconds: (performance.now() - startedAt) / 1000,
        cores: os.cpus().length,
      };
    },
  };
}
