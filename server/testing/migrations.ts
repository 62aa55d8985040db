import fs from "node:fs";
import path from "node:path";

/**
 * The migrations' SQL in order, as test databases, the chaos harness and the benches apply them to a scratch
 * database (every entry point runs from the project root). Kept apart from databases.ts, which imports vitest.
 */
export function migrationSql(migrationsDir = path.resolve(process.cwd(), "prisma/migrations")): string[] {
  return fs
    .readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((dir) => fs.readFileSync(path.join(migrationsDir, dir, "migration.sql"), "utf8"));
}
