import fs from "node:fs";
import path from "node:path";
import type { DatabaseHandle, Db } from "../db";

/**
 * Readiness: may this process take traffic (web) or work (worker)? Liveness (/api/health, /healthz) only says the
 * process answers; readiness also proves the database answers in time and — for the web process — runs the schema
 * this code was built for, so a load balancer keeps traffic away from a process that would only fail.
 */
export interface Readiness {
  status: "ready" | "not_ready";
  /** Why not, in words an operator can act on; absent when ready. */
  reason?: string;
  /** Each check: "ok", or what is wrong. */
  checks: Record<string, string>;
}

/** A probe must answer quickly even when the database hangs: a hung database is "not ready", not a hung probe. */
export const DATABASE_PROBE_TIMEOUT_MS = 3_000;

/** "ok", or why the database did not answer. */
export async function pingDatabase(db: Db, timeoutMs = DATABASE_PROBE_TIMEOUT_MS): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the database did not answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([db.$queryRaw`SELECT 1`.then(() => "ok" as const), timeout]);
  } catch (error) {
    return `the database is unreachable: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** The migrations this build ships: the folders of prisma/migrations (the process runs from the project root). */
export function expectedMigrations(migrationsDir = path.resolve(process.cwd(), "prisma/migrations")): string[] {
  return fs
    .readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(migrationsDir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort();
}

/**
 * Every migration this build ships is recorded as applied in `_prisma_migrations` (written by `npm run db:deploy`,
 * which `npm start` runs). A migration that failed or is still being applied also makes the process not ready.
 * Returns "ok", or what is wrong and what to run.
 */
export async function checkMigrations(db: Db, expected: readonly string[]): Promise<string> {
  const [table] = await db.$queryRaw<{ present: boolean }[]>`SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present`;
  if (!table?.present) return "the database has no migration history: run `npm run db:deploy`";
  const rows = await db.$queryRaw<{ name: string; finished: boolean; rolled_back: boolean }[]>`
    SELECT migration_name AS name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back FROM _prisma_migrations`;
  const unfinished = rows.filter((row) => !row.finished && !row.rolled_back).map((row) => row.name);
  if (unfinished.length > 0) return `migration ${unfinished.join(", ")} failed or is still being applied: see \`npm run db:deploy\``;
  const applied = new Set(rows.filter((row) => row.finished && !row.rolled_back).map((row) => row.name));
  const pending = expected.filter((name) => !applied.has(name));
  if (pending.length > 0) return `${pending.length} migration(s) not applied (${pending.join(", ")}): run \`npm run db:deploy\``;
  return "ok";
}

/** The web process: the database answers, and its schema is the one this build expects. */
export async function checkWebReadiness(handle: Pick<DatabaseHandle, "db">, options: { migrationsDir?: string } = {}): Promise<Readiness> {
  const database = await pingDatabase(handle.db);
  if (database !== "ok") return { status: "not_ready", reason: database, checks: { database, migrations: "not checked" } };
  let migrations: string;
  try {
    migrations = await checkMigrations(handle.db, expectedMigrations(options.migrationsDir));
  } catch (error) {
    migrations = `could not read the migration history: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
  }
  if (migrations !== "ok") return { status: "not_ready", reason: migrations, checks: { database, migrations } };
  return { status: "ready", checks: { database, migrations } };
}

/** A worker: not while it drains (it claims nothing more), and only while the database answers. */
export async function checkWorkerReadiness(db: Db, draining: boolean): Promise<Readiness> {
  if (draining) return { status: "not_ready", reason: "the worker is draining (SIGTERM): it claims no new runs", checks: { draining: "yes" } };
  const database = await pingDatabase(db);
  if (database !== "ok") return { status: "not_ready", reason: database, checks: { draining: "no", database } };
  return { status: "ready", checks: { draining: "no", database } };
}
