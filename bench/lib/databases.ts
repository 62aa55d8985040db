import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, Transaction } from "@prisma/driver-adapter-utils";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { createPrismaClient, type Db } from "@/server/db";
import { attachSql, closeSql, pgliteSqlPool, postgresSqlPool, type SqlClient, type SqlPool } from "@/server/sql";
import { migrationSql } from "@/server/testing/migrations";

/**
 * The databases the benches run on, opened exactly as the application opens them: the embedded database is PGlite on
 * a data folder on disk with pgvector loaded (as server/db.ts opens it for `npm start`); PostgreSQL is a scratch
 * database (BENCH_DATABASE_URL) whose schema is dropped and recreated from the migrations.
 */

export type BenchDatabaseKind = "embedded" | "postgresql";

/** SQL the application sent: statements and transactions, counted at the Prisma driver adapter. */
export interface SqlCounter {
  /** Every statement, inside a transaction or not. */
  statements: number;
  /** Statements sent on their own (each its own implicit transaction: one commit if it writes). */
  standalone: number;
  /** Interactive transactions (BEGIN … COMMIT): one commit each. */
  transactions: number;
  /** Standalone statements that write (INSERT, UPDATE, DELETE, or a WITH … whose CTEs write): one durable commit each. */
  standaloneWrites: number;
}

export interface BenchDatabase {
  kind: BenchDatabaseKind;
  /** "embedded (PGlite, /tmp/…)" or "postgresql (127.0.0.1:5432/bench)". */
  label: string;
  db: Db;
  /** PostgreSQL connection string (undefined on the embedded database). */
  url?: string;
  pglite?: PGlite;
  /** Statements sent through `db` so far (see countingAdapter). */
  sql: SqlCounter;
  /** Runs SQL outside Prisma (seeding, size queries), returning rows. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The settings that decide whether a commit is on disk when it returns, e.g. "synchronous_commit=on, fsync=on". */
  durability(): Promise<string>;
  close(): Promise<void>;
}

export { migrationSql };

/** The PostgreSQL scratch database of the benches; its schema is reset by every bench that opens it. */
export function benchPostgresUrl(): string {
  return process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/switchboard_bench";
}

export function postgresSkipped(): boolean {
  return Boolean(process.env.BENCH_SKIP_POSTGRES);
}

const DURABILITY_SETTINGS = ["synchronous_commit", "fsync", "wal_sync_method", "full_page_writes"];

async function describeDurability(run: (sql: string) => Promise<{ setting: string }[]>): Promise<string> {
  const parts: string[] = [];
  for (const name of DURABILITY_SETTINGS) {
    const rows = await run(`SELECT current_setting('${name}') AS setting`);
    parts.push(`${name}=${rows[0]?.setting ?? "?"}`);
  }
  return parts.join(", ");
}

function countStandalone(counter: SqlCounter, text: string): void {
  counter.standalone += 1;
  if (/^\s*(INSERT|UPDATE|DELETE)\b/i.test(text) || (/^\s*WITH\b/i.test(text) && /\b(INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b/i.test(text))) {
    counter.standaloneWrites += 1;
  }
}

/**
 * Wraps a driver adapter factory so every statement and transaction the application sends is counted: the benches
 * report SQL per step. Methods are bound to the real objects (they use private fields a Proxy would not reach).
 */
function countingAdapter(factory: SqlMigrationAwareDriverAdapterFactory, counter: SqlCounter): SqlMigrationAwareDriverAdapterFactory {
  const countQueries = <T extends SqlDriverAdapter | Transaction>(target: T, inTransaction: boolean): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof value !== "function") return value;
        const method = value as (...args: unknown[]) => unknown;
        if (property === "queryRaw" || property === "executeRaw") {
          return (...args: unknown[]) => {
            counter.statements += 1;
            if (!inTransaction) countStandalone(counter, (args[0] as { sql?: string } | undefined)?.sql ?? "");
            return method.apply(object, args);
          };
        }
        if (property === "startTransaction") {
          return async (...args: unknown[]) => {
            counter.transactions += 1;
            return countQueries((await method.apply(object, args)) as Transaction, true);
          };
        }
        return method.bind(object);
      },
    });
  return new Proxy(factory, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      if (property === "connect") return async () => countQueries((await method.apply(object, [])) as SqlDriverAdapter, false);
      return method.bind(object);
    },
  });
}

/** The kernel's SQL path (server/sql.ts), counted like the Prisma adapter's statements. */
function countingSqlPool(pool: SqlPool, counter: SqlCounter): SqlPool {
  const counted = (client: SqlClient, inTransaction: boolean): SqlClient => ({
    query: (text, params) => {
      counter.statements += 1;
      if (!inTransaction) countStandalone(counter, text);
      return client.query(text, params);
    },
  });
  return {
    ...counted(pool, false),
    transaction: (work) => {
      counter.transactions += 1;
      return pool.transaction((tx) => work(counted(tx, true)));
    },
    close: () => pool.close(),
  };
}

/** PGlite on a fresh data folder on disk, migrated; the folder is deleted on close. */
export async function openEmbeddedBench(prefix: string): Promise<BenchDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `sb-bench-${prefix}-`));
  // As server/db.ts opens it, with one Prisma client only: PGlite is a single connection.
  const pglite = new PGlite(path.join(dataDir, "pglite"), { extensions: { vector } });
  await pglite.waitReady;
  for (const sql of migrationSql()) await pglite.exec(sql);
  const sql: SqlCounter = { statements: 0, standalone: 0, transactions: 0, standaloneWrites: 0 };
  const db = attachSql(createPrismaClient(countingAdapter(new PrismaPGlite(pglite), sql)), countingSqlPool(pgliteSqlPool(pglite), sql));
  const query = async <T>(text: string, params: unknown[] = []) => (await pglite.query<T>(text, params)).rows;
  return {
    kind: "embedded",
    label: `embedded (PGlite, data folder on disk in ${dataDir})`,
    db,
    pglite,
    sql,
    query,
    durability: async () => `PGlite ${await describeDurability((text) => query<{ setting: string }>(text))}`,
    close: async () => {
      await db.$disconnect();
      await closeSql(db);
      await pglite.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates the database if needed (its name must say bench or test), drops and recreates its schema, migrates. */
export async function resetPostgres(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/bench|test/i.test(name)) throw new Error(`Refusing to reset "${name}": BENCH_DATABASE_URL must name a bench or test database.`);
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const adminClient = new pg.Client({ connectionString: admin.toString() });
  await adminClient.connect();
  try {
    const exists = await adminClient.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (exists.rowCount === 0) await adminClient.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await adminClient.end();
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;");
    for (const sql of migrationSql()) await client.query(sql);
  } finally {
    await client.end();
  }
}

/** PostgreSQL at `url` (default BENCH_DATABASE_URL), reset and migrated. `poolSize` is the Prisma pool (the app uses 10). */
export async function openPostgresBench(options: { url?: string; poolSize?: number } = {}): Promise<BenchDatabase> {
  const url = options.url ?? benchPostgresUrl();
  await resetPostgres(url);
  const sql: SqlCounter = { statements: 0, standalone: 0, transactions: 0, standaloneWrites: 0 };
  const poolSize = options.poolSize ?? 10;
  const db = attachSql(createPrismaClient(countingAdapter(new PrismaPg({ connectionString: url, max: poolSize }), sql)), countingSqlPool(postgresSqlPool(url, poolSize), sql));
  const raw = new pg.Pool({ connectionString: url, max: 2 });
  const parsed = new URL(url);
  const query = async <T>(text: string, params: unknown[] = []) => (await raw.query(text, params)).rows as T[];
  return {
    kind: "postgresql",
    label: `postgresql (${parsed.host}${parsed.pathname})`,
    db,
    url,
    sql,
    query,
    durability: async () => {
      const version = await query<{ server_version: string }>("SHOW server_version");
      return `PostgreSQL ${version[0]?.server_version ?? "?"} ${await describeDurability((text) => query<{ setting: string }>(text))}`;
    },
    close: async () => {
      await db.$disconnect();
      await closeSql(db);
      await raw.end();
    },
  };
}

/**
 * The databases a bench runs on: both, PostgreSQL skipped with BENCH_SKIP_POSTGRES (an existing knob), or exactly
 * those listed in BENCH_DATABASES (e.g. "postgresql", while profiling).
 */
export function benchDatabaseKinds(): BenchDatabaseKind[] {
  const listed = process.env.BENCH_DATABASES?.split(",").map((name) => name.trim());
  const kinds: BenchDatabaseKind[] = listed ? (["embedded", "postgresql"] as const).filter((kind) => listed.includes(kind)) : ["embedded", "postgresql"];
  return postgresSkipped() ? kinds.filter((kind) => kind !== "postgresql") : kinds;
}

export function openBenchDatabase(kind: BenchDatabaseKind, prefix: string, options: { poolSize?: number } = {}): Promise<BenchDatabase> {
  return kind === "embedded" ? openEmbeddedBench(prefix) : openPostgresBench(options);
}
