import path from "node:path";
import { pathToFileURL } from "node:url";
import { databaseTarget, env, runtimeSecrets } from "../server/env";
import { openDatabase } from "../server/db";
import { seed, type SeedReport } from "../server/domain/setup/seed";
import { deployMigrations, describeTarget } from "./lib/schema-engine";

/**
 * Brings a database to a usable state: apply pending migrations, then seed the demo organisation (idempotent).
 * Opens and closes the database itself, so on the embedded default the web server can own the data folder after.
 */
export async function runSetup(): Promise<SeedReport> {
  runtimeSecrets();
  const target = databaseTarget();
  const deployed = await deployMigrations(target);
  console.log(
    deployed.applied.length > 0
      ? `Applied ${deployed.applied.length} migration(s) to ${describeTarget(target)}`
      : `Database is up to date (${describeTarget(target)})`,
  );
  const handle = await openDatabase(target);
  try {
    const report = await seed(handle.db, {
      initAdmin:
        env.SWITCHBOARD_INIT_ADMIN_EMAIL && env.SWITCHBOARD_INIT_ADMIN_PASSWORD
          ? { email: env.SWITCHBOARD_INIT_ADMIN_EMAIL, password: env.SWITCHBOARD_INIT_ADMIN_PASSWORD }
          : undefined,
      initApiKey: env.SWITCHBOARD_INIT_API_KEY,
      dataDir: path.resolve(env.SWITCHBOARD_DATA_DIR),
    });
    printReport(report, handle.target.kind === "pglite" ? displayPath(path.resolve(env.SWITCHBOARD_DATA_DIR)) : null);
    return report;
  } finally {
    await handle.close();
  }
}

/** ./data for a folder inside the checkout, the absolute path otherwise. */
function displayPath(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? `./${relative}` : dir;
}

function printReport(report: SeedReport, embeddedDataDir: string | null): void {
  for (const server of report.toolServers ?? []) {
    if (!server.ok) console.warn(`Tool server "${server.name}" did not start: ${server.error ?? "unknown error"}`);
  }
  if (report.demoAgents && report.demoAgents.length > 0) console.log(`Demo agents created: ${report.demoAgents.join(", ")}`);
  if (report.initAdmin) console.log(`Admin ${report.initAdmin.email} ${report.initAdmin.created ? "created" : "already present"}`);
  if (report.initApiKey) console.log(`Initial API key ${report.initApiKey.created ? "created" : "already present"}`);
  if (report.createdCredentials.length === 0) return;
  const lines = report.createdCredentials.map((c) => `  ${c.role.padEnd(10)} ${c.email.padEnd(24)} ${c.password}`);
  console.log(
    [
      "",
      "┌ Demo organisation created. Sign in with one of these (shown only this once; store them now):",
      ...lines,
      embeddedDataDir
        ? `└ Lost them? Stop the server and delete ${embeddedDataDir} to start over.`
        : "└ Lost them? An admin can invite a new account from Admin → Members.",
      "",
    ].join("\n"),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  runSetup().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
