import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { SECURITY_RESULTS_DIR, type SecurityCountsFile } from "@/server/security/report";

/**
 * `npm run security`: the security suite (vitest project "security": cross-org access, fuzzing, secrets, web auth,
 * SSRF, approvals, spend, prompt injection), then a summary of what each file actually tried, from the counts the
 * test files write to test-results/security/. Exits non-zero when any test failed or a file reported nothing.
 * Extra arguments go to vitest (e.g. a file filter). DATABASE_URL_TEST names the PostgreSQL database it may reset.
 */
const ROOT = path.resolve(import.meta.dirname, "..");

fs.rmSync(SECURITY_RESULTS_DIR, { recursive: true, force: true });
fs.mkdirSync(SECURITY_RESULTS_DIR, { recursive: true });

const started = Date.now();
const vitest = spawnSync(path.join(ROOT, "node_modules/.bin/vitest"), ["run", "--project", "security", ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: "inherit",
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", VITE_CONFIG_NATIVE_IGNORE_WARNING: "true" },
});
const seconds = ((Date.now() - started) / 1000).toFixed(0);

function readReports(): SecurityCountsFile[] {
  return fs
    .readdirSync(SECURITY_RESULTS_DIR)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .flatMap((name) => {
      try {
        const parsed = JSON.parse(fs.readFileSync(path.join(SECURITY_RESULTS_DIR, name), "utf8")) as SecurityCountsFile;
        return typeof parsed.name === "string" && typeof parsed.counts === "object" ? [parsed] : [];
      } catch {
        console.error(`Ignoring unreadable ${name}.`);
        return [];
      }
    });
}

const format = (value: number) => value.toLocaleString("en-US");

/** "procedures tried" next to "procedures total" prints as "procedures tried: 97 / 97". */
function summarise(counts: Record<string, number>): string[] {
  const lines: string[] = [];
  const used = new Set<string>();
  for (const [key, value] of Object.entries(counts)) {
    if (used.has(key)) continue;
    const totalKey = key.replace(/\b(tried|blocked|refused|covered|passed)\b/, "total");
    if (totalKey !== key && totalKey in counts) {
      lines.push(`${key}: ${format(value)} / ${format(counts[totalKey]!)}`);
      used.add(totalKey);
    } else if (!(Object.keys(counts).some((other) => other !== key && other.replace(/\b(tried|blocked|refused|covered|passed)\b/, "total") === key))) {
      lines.push(`${key}: ${format(value)}`);
    }
    used.add(key);
  }
  return lines;
}

const reports = readReports();
console.log(`\n━━ Security summary (${seconds} s) ━━`);
if (reports.length === 0) console.log("No security test file reported any counts.");
const width = Math.max(0, ...reports.map((report) => report.name.length));
for (const report of reports) console.log(`${report.name.padEnd(width)}  ${summarise(report.counts).join(", ")}`);

const failures = vitest.status !== 0;
if (failures) console.log(`\nvitest failed (exit ${vitest.status ?? vitest.signal}): see the failures above.`);
else console.log("\nAll security tests passed.");
process.exit(failures || reports.length === 0 ? 1 : 0);
