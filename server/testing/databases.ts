import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { afterAll, beforeAll, describe } from "vitest";
import { createPrismaClient, openPostgresClient, type Db } from "../db";
import { env } from "../env";
import { attachSql, pgliteSqlPool } from "../sql";
import { migrationSql } from "./migrations";

export const TEST_DATABASES = ["pglite", "postgresql"] as const;
export type TestDatabaseKind = (typeof TEST_DATABASES)[number];

export { migrationSql };

export interface TestDatabase {
  kind: TestDatabaseKind;
  db: Db;
  close(): Promise<void>;
}

/**
 * A real database for an integration test file. PGlite: a fresh in-memory instance with the migrations applied.
 * PostgreSQL: DATABASE_URL_TEST, migrated once by the global setup; tests isolate themselves by creating their own
 * organisations, exactly as tenants are isolated in production.
 */
export async function openTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  if (kind === "pglite") {
    // As the application opens it (server/db.ts): with pgvector, so hybrid memory search can be tested.
    const pglite = new PGlite({ extensions: { vector } });
    for (const sql of migrationSql()) await pglite.exec(sql);
    // With the kernel's SQL path attached as the application attaches it (server/db.ts), so tests exercise it.
    const db = attachSql(createPrismaClient(new PrismaPGlite(pglite)), pgliteSqlPool(pglite));
    return { kind, db, close: async () => { await db.$disconnect(); await pglite.close(); } };
  }
  return { kind, ...openPostgresClient(env.DATABASE_URL_TEST, 4) };
}

/** Runs the same suite on the embedded database and on PostgreSQL. */
export function describeOnEachDatabase(title: string, suite: (getDb: () => Db, kind: TestDatabaseKind) => void): void {
  for (const kind of TEST_DATABASES) {
    describe(`${title} [${kind}]`, () => {
      let handle: TestDatabase | undefined;
      beforeAll(async () => {
        handle = await openTestDatabase(kind);
      }, 60_000);
      afterAll(async () => {
        await handle?.close();
      });
      suite(() => {
        if (!handle) throw new Error("test database not open yet");
        return handle.db;
      }, kind);
    });
  }
}
