import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { env } from "../../server/env";

import {
  DEFAULT_MIGRATIONS_DIR,
  DEFAULT_SCHEMA_PATH,
  checkMigrations,
  createMigration,
  deployMigrations,
  readMigrations,
} from "./schema-engine";

// Real engine, real databases: each PGlite start and engine call takes a second or a few.
const TIMEOUT = 120_000;

const committedMigrations = readMigrations(DEFAULT_MIGRATIONS_DIR).migrationDirectories.map((d) => d.path);

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "sb-schema-engine-test-"));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** A copy of the committed schema with one extra nullable column on Org, and a copy of the migrations folder. */
function modifiedCopy(): { schemaPath: string; migrationsDir: string } {
  const dir = fs.mkdtempSync(path.join(tmpRoot, "copy-"));
  const original = fs.readFileSync(DEFAULT_SCHEMA_PATH, "utf8");
  const anchor = /^(model Org \{\n(?:.*\n)*?\s+slug\s+String\s+@unique)\n/m;
  expect(original).toMatch(anchor);
  const schemaPath = path.join(dir, "schema.prisma");
  fs.writeFileSync(schemaPath, original.replace(anchor, "$1\n  motto String?\n"));
  const migrationsDir = path.join(dir, "migrations");
  fs.cpSync(DEFAULT_MIGRATIONS_DIR, migrationsDir, { recursive: true });
  return { schemaPath, migrationsDir };
}

/**
 * The committed migrations plus two: one with a ";" inside a string literal (must not split the script), then a broken
 * one whose first statement must be rolled back with it.
 */
function failingMigrations(): string {
  const migrationsDir = path.join(fs.mkdtempSync(path.join(tmpRoot, "failing-")), "migrations");
  fs.cpSync(DEFAULT_MIGRATIONS_DIR, migrationsDir, { recursive: true });
  const add = (name: string, sql: string) => {
    fs.mkdirSync(path.join(migrationsDir, name));
    fs.writeFileSync(path.join(migrationsDir, name, "migration.sql"), sql);
  };
  add("29990101000000_semicolon", `CREATE TABLE "t1" (id int);\nCOMMENT ON TABLE "t1" IS 'a; b';\n`);
  add("29990102000000_broken", `CREATE TABLE "t2" (id int);\nSELECT * FROM "no_such_table";\n`);
  return migrationsDir;
}

async function appliedMigrationNames(db: PGlite): Promise<string[]> {
  const result = await db.query<{ migration_name: string }>(
    "select migration_name from _prisma_migrations where finished_at is not null and rolled_back_at is null order by migration_name",
  );
  return result.rows.map((r) => r.migration_name);
}

describe("committed migrations", () => {
  it("exist, with a postgresql lockfile", () => {
    expect(committedMigrations.length).toBeGreaterThan(0);
    const lockfile = fs.readFileSync(path.join(DEFAULT_MIGRATIONS_DIR, "migration_lock.toml"), "utf8");
    expect(lockfile).toMatch(/^provider = "postgresql"$/m);
  });
});

describe("deployMigrations on PGlite", () => {
  it(
    "applies every migration to a fresh in-memory database, then is a no-op",
    async () => {
      const db = new PGlite();
      try {
        const first = await deployMigrations({ kind: "pglite-client", client: db });
        expect(first.applied).toEqual(committedMigrations);
        expect(first.total).toBe(committedMigrations.length);
        expect(await appliedMigrationNames(db)).toEqual(committedMigrations);

        // The schema is really there: orgs exists with its columns and defaults.
        await db.query("insert into orgs (id, name, slug) values ('o1', 'Acme', 'acme')");
        const orgs = await db.query<{ slug: string; time_zone: string }>("select slug, time_zone from orgs");
        expect(orgs.rows).toEqual([{ slug: "acme", time_zone: "UTC" }]);

        const second = await deployMigrations({ kind: "pglite-client", client: db });
        expect(second.applied).toEqual([]);
        expect(await appliedMigrationNames(db)).toEqual(committedMigrations);
        // Data survives a second deploy.
        expect((await db.query("select id from orgs")).rows).toEqual([{ id: "o1" }]);
      } finally {
        await db.close();
      }
    },
    TIMEOUT,
  );

  it(
    "creates the data folder (and its missing parents) and closes it so it can be reopened",
    async () => {
      const dataDir = path.join(tmpRoot, "nested", "data", "pglite");
      const first = await deployMigrations({ kind: "pglite", dataDir });
      expect(first.applied).toEqual(committedMigrations);
      expect(first.target).toContain(dataDir);

      const again = await deployMigrations({ kind: "pglite", dataDir });
      expect(again.applied).toEqual([]);

      const db = new PGlite(dataDir);
      try {
        expect((await db.query("select count(*)::int as n from orgs")).rows).toEqual([{ n: 0 }]);
        expect(await appliedMigrationNames(db)).toEqual(committedMigrations);
      } finally {
        await db.close();
      }
    },
    TIMEOUT,
  );

  it(
    "reports a failing migration with the database's error, records it as failed and rolls it back",
    async () => {
      const migrationsDir = failingMigrations();
      const db = new PGlite();
      try {
        await expect(deployMigrations({ kind: "pglite-client", client: db }, { migrationsDir })).rejects.toThrow(/no_such_table/);
        expect(await appliedMigrationNames(db)).toEqual([...committedMigrations, "29990101000000_semicolon"]);
        expect((await db.query("select obj_description('t1'::regclass) as d")).rows).toEqual([{ d: "a; b" }]);
        expect((await db.query("select to_regclass('t2') as t")).rows).toEqual([{ t: null }]);
        const failed = await db.query("select migration_name from _prisma_migrations where finished_at is null");
        expect(failed.rows).toEqual([{ migration_name: "29990102000000_broken" }]);
      } finally {
        await db.close();
      }
    },
    TIMEOUT,
  );

  it(
    "unwraps adapter errors instead of reporting `External error id#N`",
    async () => {
      const db = new PGlite();
      await db.waitReady;
      await db.close();
      const failure = deployMigrations({ kind: "pglite-client", client: db });
      await expect(failure).rejects.toThrow(/PGlite is closed/);
      await expect(failure).rejects.not.toThrow(/External error/);
    },
    TIMEOUT,
  );
});

describe("checkMigrations", () => {
  it(
    "finds no drift between the committed schema and migrations",
    async () => {
      expect(await checkMigrations()).toEqual({ upToDate: true, script: "" });
    },
    TIMEOUT,
  );

  it(
    "reports drift, with the missing SQL, for a schema with a new field",
    async () => {
      const { schemaPath } = modifiedCopy();
      const result = await checkMigrations({ schemaPath });
      expect(result.upToDate).toBe(false);
      expect(result.script).toMatch(/ALTER TABLE "orgs" ADD COLUMN\s+"motto" TEXT/);
    },
    TIMEOUT,
  );
});

describe("createMigration on PGlite", () => {
  it(
    "writes and applies a migration for a schema change, then finds nothing more to create",
    async () => {
      const { schemaPath, migrationsDir } = modifiedCopy();
      const db = new PGlite();
      try {
        const created = await createMigration({ kind: "pglite-client", client: db }, { schemaPath, migrationsDir, name: "Add org motto" });
        expect(created.created).toMatch(/^\d{14}_add_org_motto$/);
        expect(created.file).toBe(path.join(migrationsDir, `${created.created}`, "migration.sql"));
        expect(fs.readFileSync(created.file ?? "", "utf8")).toMatch(/ALTER TABLE "orgs" ADD COLUMN\s+"motto" TEXT/);
        expect(created.applied).toEqual([...committedMigrations, created.created]);
        await db.query("update orgs set motto = 'x' where false"); // the column exists

        const nothing = await createMigration({ kind: "pglite-client", client: db }, { schemaPath, migrationsDir, name: "again" });
        expect(nothing.created).toBeNull();
        expect(nothing.applied).toEqual([]);
        expect(await checkMigrations({ schemaPath, migrationsDir })).toEqual({ upToDate: true, script: "" });
      } finally {
        await db.close();
      }
    },
    TIMEOUT,
  );
});

// PostgreSQL 127.0.0.1:5432 is part of the project's test environment (see STACK-NOTES); DATABASE_URL_TEST points at it.
describe("PostgreSQL (adapter-pg workarounds: OID 18, shadow database, whole-script execution)", () => {
  let admin: pg.Client;
  const created: string[] = [];

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: env.DATABASE_URL_TEST });
    await admin.connect();
  }, TIMEOUT);

  afterAll(async () => {
    for (const database of created) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
    await admin.end();
  }, TIMEOUT);

  /** A new empty database; returns its URL. */
  async function scratchDatabase(): Promise<string> {
    const database = `sb_schema_engine_test_${randomUUID().replaceAll("-", "")}`;
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    created.push(database);
    const url = new URL(env.DATABASE_URL_TEST);
    url.pathname = `/${database}`;
    return url.toString();
  }

  async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await run(client);
    } finally {
      await client.end();
    }
  }

  async function shadowDatabases(): Promise<string[]> {
    const result = await admin.query<{ datname: string }>("select datname from pg_database where datname like 'prisma_migrate_shadow_db_%'");
    return result.rows.map((r) => r.datname);
  }

  it(
    "deploys, is idempotent, creates a migration through a shadow database and drops the shadow",
    async () => {
      const shadowsBefore = await shadowDatabases();
      const target = { kind: "postgres" as const, url: await scratchDatabase() };

      const first = await deployMigrations(target);
      expect(first.applied).toEqual(committedMigrations);
      expect((await deployMigrations(target)).applied).toEqual([]);

      const { schemaPath, migrationsDir } = modifiedCopy();
      const result = await createMigration(target, { schemaPath, migrationsDir, name: "motto" });
      expect(result.created).toMatch(/^\d{14}_motto$/);
      expect(result.applied).toEqual([result.created]);

      const column = await withClient(target.url, (client) =>
        client.query("select data_type from information_schema.columns where table_name = 'orgs' and column_name = 'motto'"),
      );
      expect(column.rows).toEqual([{ data_type: "text" }]);
      expect(await shadowDatabases()).toEqual(shadowsBefore);
    },
    TIMEOUT,
  );

  it(
    "runs each migration script whole and atomically",
    async () => {
      const target = { kind: "postgres" as const, url: await scratchDatabase() };
      await expect(deployMigrations(target, { migrationsDir: failingMigrations() })).rejects.toThrow(/no_such_table/);
      await withClient(target.url, async (client) => {
        expect((await client.query("select obj_description('t1'::regclass) as d")).rows).toEqual([{ d: "a; b" }]);
        expect((await client.query("select to_regclass('t2') as t")).rows).toEqual([{ t: null }]);
        const failed = await client.query("select migration_name from _prisma_migrations where finished_at is null");
        expect(failed.rows).toEqual([{ migration_name: "29990102000000_broken" }]);
      });
    },
    TIMEOUT,
  );
});
