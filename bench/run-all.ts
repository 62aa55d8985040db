import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describeMachine } from "./lib/machine";
import { runMain } from "./lib/stats";

/**
 * `npm run bench`: runs every bench in turn (each in its own process, so one bench's memory and open handles do not
 * colour the next), echoes its output, and writes bench/results.md: machine, date, Node version, the load when it
 * ran, and each bench's output (its tables are Markdown already, each figure next to its durability setting).
 *
 *   npm run bench
 *   BENCH_QUICK=1 npm run bench          (smaller counts, for a smoke run)
 *   BENCH_ONLY=kernel-overhead,console npm run bench
 *
 * Exits non-zero when any bench did (a missed target or an error); results.md is written either way.
 */

const BENCHES = [
  { file: "kernel-overhead.ts", title: "Kernel overhead per step" },
  { file: "throughput.ts", title: "Throughput and concurrency" },
  { file: "approval-roundtrip.ts", title: "Approval round trip" },
  { file: "console.ts", title: "Console server time" },
  { file: "dashboard.ts", title: "Dashboard load" },
  { file: "memory-recall.ts", title: "Memory recall" },
];

const ROOT = path.resolve(__dirname, "..");

function runBench(file: string): Promise<{ code: number; output: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    // node with tsx's loader (not the tsx CLI): one process per bench, killed cleanly with it.
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", path.join("bench", file)], {
      cwd: ROOT,
      env: { SWITCHBOARD_LOG_LEVEL: "warn", ...process.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      process.stdout.write(chunk);
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    child.once("exit", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output, seconds: (Date.now() - started) / 1000 }));
  });
}

/** Progress lines ("measuring …") are for the terminal; results.md keeps the figures. */
function forResults(output: string): string {
  return output
    .split("\n")
    .filter((line) => !/^(measuring|seeding and measuring|embedded, \d+ runs…|postgresql, \d+ runs|LangGraph\.js \+ SqliteSaver, \d+ runs…)/.test(line.trim()))
    .filter((line) => !line.startsWith("{\"time\""))
    .join("\n")
    .trim();
}

async function main(): Promise<number> {
  const only = process.env.BENCH_ONLY?.split(",").map((name) => name.trim().replace(/\.ts$/, ""));
  const selected = BENCHES.filter((bench) => !only || only.includes(bench.file.replace(/\.ts$/, "")));
  const startedAt = new Date();
  const machineBefore = describeMachine();
  const sections: string[] = [];
  let failed = 0;
  for (const bench of selected) {
    console.log(`\n━━━ ${bench.title} (bench/${bench.file}) ━━━\n`);
    const result = await runBench(bench.file);
    if (result.code !== 0) failed += 1;
    const status = result.code === 0 ? "passed" : "exited non-zero (a missed target or an error: see its output)";
    const body = forResults(result.output);
    // Benches that print their own "## Title" keep it; the older ones get one.
    const heading = body.startsWith("## ") ? "" : `## ${bench.title}\n\n`;
    sections.push(`${heading}${body.startsWith("## ") ? body.replace(/^## .*\n/, (line) => `${line}\n_bench/${bench.file}, ${result.seconds.toFixed(0)} s, ${status}_\n`) : `_bench/${bench.file}, ${result.seconds.toFixed(0)} s, ${status}_\n\n\`\`\`\n${body}\n\`\`\``}`);
  }
  const knobs = Object.entries(process.env)
    .filter(([name]) => name.startsWith("BENCH_"))
    .map(([name, value]) => `${name}=${value}`)
    .join(", ");
  const header = [
    "# Switchboard benchmarks",
    "",
    `Written by \`npm run bench\` (bench/run-all.ts) on ${startedAt.toISOString()}.`,
    "",
    `- Machine at start: ${machineBefore}`,
    `- Machine at end: ${describeMachine()}`,
    `- Node ${process.version}; settings: ${knobs || "defaults"}`,
    "- Durability: every table names the setting its figures were measured with (PostgreSQL synchronous_commit/fsync, PGlite's settings, SQLite journal and synchronous modes).",
    "- A load average well above the core count means other work shared the machine: treat absolute figures as noisy and compare ratios measured in the same run.",
    "",
  ].join("\n");
  fs.writeFileSync(path.join(ROOT, "bench", "results.md"), `${header}\n${sections.join("\n\n")}\n`);
  console.log(`\nWrote bench/results.md (${selected.length} benches, ${failed} exited non-zero).`);
  return failed === 0 ? 0 : 1;
}

runMain(main);
