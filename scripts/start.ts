import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { env, runtimeSecrets } from "../server/env";
import { runSetup } from "./setup";

/**
 * `npm start`: migrate and seed the database, build when the sources changed since the last build, then serve.
 * On the embedded database one process owns the data folder, so setup finishes (and closes it) before Next starts.
 */
const ROOT = path.resolve(import.meta.dirname, "..");
const NEXT_BIN = path.join(ROOT, "node_modules/next/dist/bin/next");
// The build folder next.config.ts uses (NEXT_DIST_DIR lets several servers share one checkout): the stamp lives in
// it, so one server's build never makes another's stale build look current.
const DIST_DIR = path.join(ROOT, process.env.NEXT_DIST_DIR || ".next");
const BUILD_STAMP = path.join(DIST_DIR, "switchboard-build-stamp");
const SOURCE_ROOTS = ["app", "components", "lib", "server", "prisma/schema.prisma", "package-lock.json", "next.config.ts", "postcss.config.mjs", "tsconfig.json"];
const dev = process.argv.includes("--dev");

function sourceFingerprint(): string {
  const hash = crypto.createHash("sha256");
  const visit = (relative: string) => {
    const full = path.join(ROOT, relative);
    if (!fs.existsSync(full) || relative.startsWith("server/generated")) return;
    const stat = fs.statSync(full);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(full).sort()) visit(path.join(relative, entry));
    } else {
      hash.update(`${relative}\0${stat.size}\0${stat.mtimeMs}\n`);
    }
  };
  SOURCE_ROOTS.forEach(visit);
  return hash.digest("hex");
}

function buildIfNeeded(childEnv: NodeJS.ProcessEnv): void {
  const fingerprint = sourceFingerprint();
  const built = fs.existsSync(path.join(DIST_DIR, "BUILD_ID")) && fs.existsSync(BUILD_STAMP) && fs.readFileSync(BUILD_STAMP, "utf8") === fingerprint;
  if (built) {
    console.log("Build is current.");
    return;
  }
  console.log("Building the console (first start or sources changed; about a minute)…");
  const result = spawnSync(process.execPath, [NEXT_BIN, "build"], { cwd: ROOT, stdio: "inherit", env: childEnv });
  if (result.status !== 0) {
    console.error("next build failed; see the output above.");
    process.exit(result.status ?? 1);
  }
  fs.writeFileSync(BUILD_STAMP, fingerprint);
}

async function main(): Promise<void> {
  await runSetup();
  const secrets = runtimeSecrets();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NEXT_TELEMETRY_DISABLED: "1",
    CHECKPOINT_DISABLE: "1",
    NODE_ENV: dev ? "development" : "production",
    NEXTAUTH_URL: env.NEXTAUTH_URL ?? `http://localhost:${env.PORT}`,
    NEXTAUTH_SECRET: secrets.nextAuthSecret,
    SWITCHBOARD_ENCRYPTION_KEY: secrets.encryptionKey.toString("hex"),
  };
  if (!dev) buildIfNeeded(childEnv);
  const server = spawn(process.execPath, [NEXT_BIN, dev ? "dev" : "start", "-p", String(env.PORT)], { cwd: ROOT, stdio: "inherit", env: childEnv });
  console.log(`Switchboard is starting on http://localhost:${env.PORT}`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => server.kill(signal));
  }
  server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
