/**
 * Database migrations through the WASM schema engine (Prisma's native engines are not available here).
 *
 *   npx tsx scripts/migrate.ts deploy                     apply pending migrations        (prisma migrate deploy)
 *   npx tsx scripts/migrate.ts create [--name <name>]     create + apply a new migration  (prisma migrate dev)
 *                                     [--create-only]     ... without applying it
 *   npx tsx scripts/migrate.ts check                      exit 1 if the schema has changes no migration captures
 *
 * Common flags: --schema <path> (default prisma/schema.prisma), --migrations <dir> (default prisma/migrations),
 * --verbose (engine logs). The target is DATABASE_URL, or the embedded PGlite database under SWITCHBOARD_DATA_DIR.
 */
import path from "node:path";
import { parseArgs } from "node:util";

import {
  checkMigrations,
  createMigration,
  deployMigrations,
  DEFAULT_MIGRATIONS_DIR,
  DEFAULT_SCHEMA_PATH,
  type SchemaEngineOptions,
} from "./lib/schema-engine";

const USAGE = `Usage: tsx scripts/migrate.ts <deploy|create|check> [--name <name>] [--create-only] [--schema <path>] [--migrations <dir>] [--verbose]`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      "create-only": { type: "boolean", default: false },
      schema: { type: "string" },
      migrations: { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, ...extra] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!command || extra.length > 0) {
    console.error(USAGE);
    return 64;
  }

  const options: SchemaEngineOptions = {
    schemaPath: values.schema ? path.resolve(values.schema) : DEFAULT_SCHEMA_PATH,
    migrationsDir: values.migrations ? path.resolve(values.migrations) : DEFAULT_MIGRATIONS_DIR,
    ...(values.verbose ? { log: (line: string) => console.error(`[schema-engine] ${line}`) } : {}),
  };
  const migrationsLabel = displayPath(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);

  switch (command) {
    case "deploy": {
      const result = await deployMigrations(await target(), options);
      if (result.total === 0) console.log(`No migrations found in ${migrationsLabel}; nothing to apply to ${result.target}`);
      else if (result.applied.length === 0) console.log(`Database is up to date (${result.total} migration(s), ${result.target})`);
      else console.log(`Applied ${result.applied.length} migration(s) to ${result.target}: ${result.applied.join(", ")}`);
      return 0;
    }
    case "create": {
      const result = await createMigration(await target(), {
        ...options,
        ...(values.name !== undefined ? { name: values.name } : {}),
        createOnly: values["create-only"],
      });
      if (result.file) console.log(`Created ${displayPath(result.file)}`);
      else console.log(`No schema changes: the migrations in ${migrationsLabel} already match the schema; nothing created`);
      for (const warning of result.warnings) console.warn(`  warning: ${warning}`);
      if (result.applied.length > 0) {
        console.log(`Applied ${result.applied.length} migration(s) to ${result.target}: ${result.applied.join(", ")}`);
      }
      if (result.created && !result.applied.includes(result.created)) {
        for (const step of result.unexecutable) console.error(`  cannot apply as is: ${step}`);
        console.log(`Not applied${values["create-only"] ? " (--create-only)" : ""}; review it, then run: npx tsx scripts/migrate.ts deploy`);
        return result.unexecutable.length > 0 ? 1 : 0;
      }
      return 0;
    }
    case "check": {
      const result = await checkMigrations(options);
      if (result.upToDate) {
        console.log(`Migrations are up to date with ${displayPath(options.schemaPath ?? DEFAULT_SCHEMA_PATH)}`);
        return 0;
      }
      console.error(
        `${displayPath(options.schemaPath ?? DEFAULT_SCHEMA_PATH)} has changes that no migration in ${migrationsLabel} captures.\n` +
          `Create one with: npx tsx scripts/migrate.ts create --name <name>\n` +
          `Missing SQL:\n`,
      );
      console.error(result.script.trim());
      return 1;
    }
    default:
      console.error(`Unknown command "${command}".\n${USAGE}`);
      return 64;
  }
}

/** The database from the environment; imported lazily so `check` needs no valid environment. */
async function target() {
  const { databaseTarget } = await import("../server/env");
  return databaseTarget();
}

function displayPath(p: string): string {
  const relative = path.relative(process.cwd(), p);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? `./${relative}` : p;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
    if (process.argv.includes("--verbose") && error instanceof Error && error.cause instanceof Error && error.cause.stack) {
      console.error(`Caused by: ${error.cause.stack}`);
    }
    // Pools may linger after a failure: exit explicitly (connections were closed by the library).
    process.exit(1);
  },
);
