import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaClient } from "./generated/prisma/client";
import { databaseTarget, env, type DatabaseTarget } from "./env";
import { attachSql, closeSql, pgliteSqlPool, postgresSqlPool } from "./sql";

/** Columns that must never leave the server by accident: reading them takes an explicit `omit: { x: false }`. */
const OMIT_SECRET_COLUMNS = {
  user: { passwordHash: true },
  secret: { ciphertext: true, iv: true, authTag: true },
  apiKey: { hashedKey: true },
  invitation: { tokenHash: true },
  agent: { webhookSecretHash: true },
} as const;

export function createPrismaClient(adapter: SqlMigrationAwareDriverAdapterFactory) {
  return new PrismaClient({ adapter, omit: OMIT_SECRET_COLUMNS });
}

export type Db = ReturnType<typeof createPrismaClient>;
type TransactionCallback = Extract<Parameters<Db["$transaction"]>[0], (...args: never[]) => unknown>;
/** A transaction handle; domain functions accept `Db | Tx` so they compose into transactions. */
export type Tx = Parameters<TransactionCallback>[0];
export type DbOrTx = Db | Tx;

export interface DatabaseHandle {
  db: Db;
  target: DatabaseTarget;
  /** The PGlite instance when embedded (tests and the migration tool need it); undefined on PostgreSQL. */
  pglite?: PGlite;
  close(): Promise<void>;
}

/**
 * A client on PostgreSQL: Prisma's pool of `max` connections, and as many for the kernel's trace writes, which go
 * straight to node-postgres (server/sql.ts). `close` ends both.
 */
export function openPostgresClient(url: string, max: number): { db: Db; close(): Promise<void> } {
  const db = attachSql(createPrismaClient(new PrismaPg({ connectionString: url, max })), postgresSqlPool(url, max));
  return {
    db,
    close: async () => {
      await db.$disconnect();
      await closeSql(db);
    },
  };
}

/**
 * Twice the cores, from 2 to 10. The kernel keeps every connection busy under load, and past about two active
 * statements per core PostgreSQL spends its CPU on contention rather than work: on 2 cores, 10 connections per
 * worker cost ≈ 5 ms of PostgreSQL CPU per step, 3 ≈ 2.9 ms (bench/throughput.ts).
 */
export function defaultPoolSize(): number {
  return Math.min(10, Math.max(2, 2 * os.availableParallelism()));
}

export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  if (target.kind === "postgres") return { ...openPostgresClient(target.url, env.DATABASE_POOL_SIZE ?? defaultPoolSize()), target };
  // PGlite's own mkdir is not recursive.
  fs.mkdirSync(path.dirname(target.dataDir), { recursive: true });
  // pgvector is loaded with the client (PGlite cannot add an extension later); hybrid memory search enables it.
  const pglite = new PGlite(target.dataDir, { extensions: { vector } });
  await pglite.waitReady;
  const db = attachSql(createPrismaClient(new PrismaPGlite(pglite)), pgliteSqlPool(pglite));
  return {
    db,
    target,
    pglite,
    close: async () => {
      await db.$disconnect();
      await pglite.close();
    },
  };
}

/**
 * Exactly one handle per process, kept on globalThis: Next.js may evaluate this module more than once (route
 * handlers, server components and instrumentation live in separate layers), and two PGlite instances on one data
 * folder would corrupt it.
 */
const globalForDb = globalThis as unknown as { switchboardDb?: Promise<DatabaseHandle> };

export function getDatabase(): Promise<DatabaseHandle> {
  globalForDb.switchboardDb ??= openDatabase(databaseTarget());
  return globalForDb.switchboardDb;
}

export async function getDb(): Promise<Db> {
  return (await getDatabase()).db;
}

export async function closeDatabase(): Promise<void> {
  const pending = globalForDb.switchboardDb;
  globalForDb.switchboardDb = undefined;
  if (pending) await (await pending).close();
}

/**
 * True for the root client, false for a transaction handle. Prisma 7 transaction handles also have `$transaction`
 * (nested transactions via savepoints, which PGlite's adapter does not support), so test for `$disconnect`.
 */
export function isRootClient(db: DbOrTx): db is Db {
  return "$disconnect" in db;
}

/** Runs `fn` in a transaction, joining the caller's when `db` already is one. */
export async function inTransaction<T>(db: DbOrTx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (isRootClient(db)) return db.$transaction(fn);
  return fn(db);
}

/** Tests: make route handlers (which call getDb) use a test database. Never called by the application. */
export function overrideDatabaseForTests(db: Db, target: DatabaseTarget): void {
  globalForDb.switchboardDb = Promise.resolve({ db, target, close: async () => {} });
}
