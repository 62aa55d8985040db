import os from "node:os";

/** One line that says where a figure was measured: CPU, cores, memory, OS, Node, and the load right now. */
export function describeMachine(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((value) => value.toFixed(2)).join(" / ");
  return (
    `${cpus[0]?.model.trim() ?? "unknown CPU"}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ` +
    `${os.type()} ${os.release()}, Node ${process.version}; load average (1/5/15 min) ${load}`
  );
}
