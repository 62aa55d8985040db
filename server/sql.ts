import crypto from "node:crypto";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { isRootClient, type Db, type DbOrTx } from "./db";
import { logger } from "./logger";

/**
 * Plain parameterised SQL ($1, $2, …) straight on the database driver, for the kernel's hot path (the trace writes of
 * every step). Prisma stays the data layer everywhere else; here its per-statement client overhead (≈ 0.5–1 ms of
 * CPU, more than PostgreSQL takes to run and commit the statement) was most of the kernel's cost per step.
 *
 * Values: timestamps go in as ISO strings cast to `timestamp` (UTC, as Prisma stores them, whatever the process's
 * time zone), JSON as text cast to `jsonb`; read back only what the statement computed, never a timestamp.
 */
export interface SqlClient {
  query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface SqlPool extends SqlClient {
  /** True when the database runs one statement at a time (PGlite): nothing is gained by sending writes together. */
  readonly oneAtATime?: boolean;
  /** Runs `work` in one transaction (BEGIN … COMMIT on one connection); any error rolls it back and is rethrown. */
  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const pools = new WeakMap<object, SqlPool>();

/** Gives `db` a driver-level pool on the same database; `sqlFor(db)` then uses it. Returns `db`. */
export function attachSql<T extends Db>(db: T, pool: SqlPool): T {
  pools.set(db, pool);
  return db;
}

/** The attached pool's close, if any (handles call it after `db.$disconnect()`). */
export async function closeSql(db: Db): Promise<void> {
  const pool = pools.get(db);
  pools.delete(db);
  await pool?.close();
}

/**
 * The SQL path for `db`: its attached driver pool, or — for a client opened without one, or inside a Prisma
 * transaction — the same statements through Prisma's raw queries, so every caller works either way.
 */
export function sqlFor(db: DbOrTx): SqlPool {
  return pools.get(db) ?? prismaSql(db);
}

/**
 * Kernel transactions on Prisma wait longer than its 2 s default for a connection: on the embedded database (one
 * connection) many concurrent runs queue for it, and a step that gave up would stall its run until the lease expired.
 */
export const KERNEL_TRANSACTION = { maxWait: 15_000, timeout: 30_000 };

/** An id for a row this path inserts itself (Prisma would have made a cuid): a short prefix naming the table + 128 bits. */
export function newRowId(prefix: string): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "")}`;
}

function prismaSql(db: DbOrTx): SqlPool {
  const client = (target: DbOrTx): SqlClient => ({
    query: <Row>(text: string, params: readonly unknown[] = []) => target.$queryRawUnsafe<Row[]>(text, ...params),
  });
  return {
    ...client(db),
    transaction: async (work) => {
      // Already inside a Prisma transaction: the work joins it.
      if (!isRootClient(db)) return work(client(db));
      return db.$transaction((tx) => work(client(tx)), KERNEL_TRANSACTION);
    },
    close: async () => {},
  };
}

const statementNames = new Map<string, string>();
const MAX_NAMED_STATEMENTS = 200;

/**
 * A named statement: each connection parses and plans it once and then only binds and executes it. The kernel's
 * statements are few and fixed, and unnamed ones were parsed and planned again on every call — for the trace CTEs
 * more of PostgreSQL's CPU than running them. The name is a digest of the text, so equal texts share one name.
 */
function prepared(text: string, params: readonly unknown[]): pg.QueryConfig {
  let name = statementNames.get(text);
  // Texts built at run time would make a statement per variant on every connection: past this many, unnamed.
  if (!name && statementNames.size >= MAX_NAMED_STATEMENTS) return { text, values: [...params] };
  if (!name) {
    name = `sb_${crypto.createHash("sha1").update(text).digest("hex").slice(0, 16)}`;
    statementNames.set(text, name);
  }
  return { name, text, values: [...params] };
}

/** node-postgres, for PostgreSQL: its own small pool beside Prisma's. */
export function postgresSqlPool(connectionString: string, max: number): SqlPool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 15_000, application_name: "switchboard-kernel" });
  // A pooled connection that dies while idle (PostgreSQL restarted, connection terminated) must not crash the process;
  // the pool replaces it, and a query that was using it fails on its own.
  pool.on("error", (error) => logger.warn("a kernel database connection failed while idle", { error: error.message }));
  return {
    query: async <Row>(text: string, params: readonly unknown[] = []) => (await pool.query(prepared(text, params))).rows as Row[],
    transaction: async (work) => {
      const connection = await pool.connect();
      let broken: Error | undefined;
      // A checked-out connection that dies emits 'error' on its client (the pool only listens while it is idle):
      // without a listener the process would crash; the statement in flight fails and the transaction is abandoned.
      const onError = (error: Error) => {
        broken = error;
      };
      connection.on("error", onError);
      try {
        await connection.query("BEGIN");
        const result = await work({ query: async <Row>(text: string, params: readonly unknown[] = []) => (await connection.query(prepared(text, params))).rows as Row[] });
        await connection.query("COMMIT");
        return result;
      } catch (error) {
        try {
          await connection.query("ROLLBACK");
        } catch (rollbackFailed) {
          // The connection itself is gone: it must not go back to the pool.
          broken = rollbackFailed instanceof Error ? rollbackFailed : new Error(String(rollbackFailed));
        }
        throw error;
      } finally {
        connection.off("error", onError);
        connection.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/**
 * PGlite, for the embedded database: the same single connection Prisma uses. PGlite runs one query or transaction at
 * a time (its own lock), so these statements never interleave with a Prisma transaction in progress.
 */
export function pgliteSqlPool(pglite: PGlite): SqlPool {
  return {
    oneAtATime: true,
    query: async <Row>(text: string, params: readonly unknown[] = []) => (await pglite.query<Row>(text, [...params])).rows,
    transaction: (work) =>
      pglite.transaction((tx) => work({ query: async <Row>(text: string, params: readonly unknown[] = []) => (await tx.query<Row>(text, [...params])).rows })),
    close: async () => {},
  };
}
