/**
 * Driver adapter factories for the WASM schema engine (migrations only — the application builds its own adapters).
 *
 * Both factories wrap the stock adapters with the fixes the migration engine needs (see shared STACK-NOTES,
 * "Prisma 7 without its native engines"):
 *
 * PostgreSQL (@prisma/adapter-pg 7.10):
 *  - catalog queries return the internal `"char"` type (OID 18), which adapter-pg cannot decode: while a migration
 *    connection is open, pg reports OID 18 as text (25) — see installCharOidPatch;
 *  - the shadow database is created by us from a discrete pg config (adapter-pg's own connectToShadowDb spreads a
 *    `connectionString`, which overrides the shadow database name, so the "shadow" would be the real database), and
 *    its pool is closed before `DROP DATABASE ... WITH (FORCE)`;
 *  - executeScript sends the whole migration script as one simple-protocol query (what the native engine does) instead
 *    of adapter-pg's split-on-";", which breaks on any ";" inside a string literal, comment or function body and is
 *    not atomic.
 *
 * PGlite (pglite-prisma-adapter 0.7.2):
 *  - executeScript awaits `exec` (the stock one does not, so a failing migration script would be reported as
 *    applied and its error would surface later as an unhandled rejection);
 *  - the shadow database is an in-memory PGlite that is closed when the engine disposes it (the stock one leaks).
 */
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import pg from "pg";
// pg's own connection-string parser (a dependency of pg), so DATABASE_URL means exactly what it means to the app.
import { parseIntoClientConfig } from "pg-connection-string";
import { PrismaPGlite } from "pglite-prisma-adapter";

import type { DatabaseTarget } from "../../server/env";

/**
 * Where migrations run: the app's database target (server/env.ts `databaseTarget()`), or a PGlite instance owned by
 * the caller (tests, or a process that already holds the one PGlite instance for a data folder). A caller-owned
 * instance is never closed here.
 */
export type MigrationTarget = DatabaseTarget | { kind: "pglite-client"; client: PGlite; label?: string };

/** An open connection for the engine. `close` releases everything this module opened; it is idempotent. */
export interface MigrationConnection {
  factory: SqlMigrationAwareDriverAdapterFactory;
  description: string;
  close(): Promise<void>;
}

export async function openMigrationConnection(target: MigrationTarget): Promise<MigrationConnection> {
  switch (target.kind) {
    case "pglite": {
      // PGlite's mkdir is not recursive: create the parent of the data folder first.
      fs.mkdirSync(path.dirname(target.dataDir), { recursive: true });
      // With pgvector, as the application opens it: the data folder may hold the hybrid search's vector table.
      const client = new PGlite(target.dataDir, { extensions: { vector } });
      await client.waitReady;
      return pgliteConnection(client, `embedded database at ${displayPath(target.dataDir)}`, () => client.close());
    }
    case "pglite-client":
      return pgliteConnection(target.client, target.label ?? "PGlite database", async () => {});
    case "postgres":
      return postgresConnection(target.url);
  }
}

export function describeTarget(target: MigrationTarget): string {
  switch (target.kind) {
    case "pglite":
      return `embedded database at ${displayPath(target.dataDir)}`;
    case "pglite-client":
      return target.label ?? "PGlite database";
    case "postgres":
      return describePgConfig(parseIntoClientConfig(target.url));
  }
}

function displayPath(p: string): string {
  const relative = path.relative(process.cwd(), p);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? `./${relative}` : p;
}

function describePgConfig(config: pg.ClientConfig): string {
  const host = config.host ?? "localhost";
  const port = config.port ?? 5432;
  return `PostgreSQL database "${config.database ?? config.user ?? ""}" at ${host}:${port}`;
}

// ─── shared helpers ──────────────────────────────────────────────────────────────────────────────────

/** A delegating adapter with some methods replaced (the stock adapter classes are not exported for subclassing). */
function overrideAdapter(base: SqlDriverAdapter, overrides: Partial<Pick<SqlDriverAdapter, "executeScript" | "dispose">>): SqlDriverAdapter {
  const adapter: SqlDriverAdapter = {
    provider: base.provider,
    adapterName: base.adapterName,
    queryRaw: (query) => base.queryRaw(query),
    executeRaw: (query) => base.executeRaw(query),
    executeScript: overrides.executeScript ?? ((script) => base.executeScript(script)),
    startTransaction: (isolationLevel) => base.startTransaction(isolationLevel),
    dispose: overrides.dispose ?? (() => base.dispose()),
  };
  const getConnectionInfo = base.getConnectionInfo?.bind(base);
  if (getConnectionInfo) adapter.getConnectionInfo = getConnectionInfo;
  return adapter;
}

interface PostgresErrorFields {
  code: string;
  message: string;
  severity?: string;
  detail?: string;
  column?: string;
  hint?: string;
}

function isPostgresError(error: unknown): error is PostgresErrorFields {
  if (!(error instanceof Error)) return false;
  const { code } = error as { code?: unknown };
  return typeof code === "string";
}

/** Report a server error from a migration script the way the stock adapters report query errors. */
function toDriverAdapterError(error: unknown): unknown {
  if (!isPostgresError(error)) return error;
  return new DriverAdapterError({
    kind: "postgres",
    code: error.code,
    severity: error.severity ?? "ERROR",
    message: error.message,
    detail: error.detail,
    column: error.column,
    hint: error.hint,
    originalCode: error.code,
    originalMessage: error.message,
  });
}

// ─── PGlite ──────────────────────────────────────────────────────────────────────────────────────────

function pgliteConnection(client: PGlite, description: string, closeClient: () => Promise<void>): MigrationConnection {
  const stock = new PrismaPGlite(client);
  const shadows = new Set<PGlite>();

  const withAwaitedScript = (adapter: SqlDriverAdapter, db: PGlite, dispose?: () => Promise<void>) =>
    overrideAdapter(adapter, {
      executeScript: async (script) => {
        try {
          await db.exec(script);
        } catch (error) {
          throw toDriverAdapterError(error);
        }
      },
      ...(dispose ? { dispose } : {}),
    });

  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: stock.provider,
    adapterName: stock.adapterName,
    connect: async () => withAwaitedScript(await stock.connect(), client),
    connectToShadowDb: async () => {
      const shadow = new PGlite();
      await shadow.waitReady;
      shadows.add(shadow);
      const adapter = await new PrismaPGlite(shadow).connect();
      return withAwaitedScript(adapter, shadow, async () => {
        shadows.delete(shadow);
        if (!shadow.closed) await shadow.close();
      });
    },
  };

  let closed = false;
  return {
    factory,
    description,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const shadow of shadows) if (!shadow.closed) await shadow.close();
      shadows.clear();
      await closeClient();
    },
  };
}

// ─── PostgreSQL ──────────────────────────────────────────────────────────────────────────────────────

function postgresConnection(url: string): MigrationConnection {
  // Discrete host/port/user/password/database (never a connectionString: see the file comment).
  const config = parseIntoClientConfig(url);
  const uninstallPatch = installCharOidPatch();
  const pools = new Set<pg.Pool>();
  const shadowDatabases = new Set<string>();

  const openPool = (database?: string): pg.Pool => {
    const pool = new pg.Pool({ ...config, ...(database ? { database } : {}), max: 4 });
    // An idle client's error (e.g. the server restarting) must not crash the process; the next query reports it.
    pool.on("error", () => {});
    pools.add(pool);
    return pool;
  };
  const endPool = async (pool: pg.Pool) => {
    if (!pools.delete(pool)) return;
    await pool.end();
  };

  /** An adapter over its own pool; disposing it ends the pool. */
  const connectPool = async (pool: pg.Pool, dispose?: () => Promise<void>): Promise<SqlDriverAdapter> => {
    const adapter = await new PrismaPg(pool).connect();
    return overrideAdapter(adapter, {
      // One simple-protocol query: multi-statement, runs atomically in an implicit transaction (as the native engine).
      executeScript: async (script) => {
        try {
          await pool.query(script);
        } catch (error) {
          throw toDriverAdapterError(error);
        }
      },
      dispose: dispose ?? (() => endPool(pool)),
    });
  };

  const dropShadow = async (database: string) => {
    if (!shadowDatabases.delete(database)) return;
    const admin = openPool();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
    } finally {
      await endPool(admin);
    }
  };

  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: "postgres",
    adapterName: "@prisma/adapter-pg",
    connect: () => connectPool(openPool()),
    connectToShadowDb: async () => {
      const database = `prisma_migrate_shadow_db_${randomUUID()}`;
      const admin = openPool();
      try {
        await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
      } catch (error) {
        throw toDriverAdapterError(error);
      } finally {
        await endPool(admin);
      }
      shadowDatabases.add(database);
      const shadowPool = openPool(database);
      // Close the shadow pool first, then drop the database (FORCE ends any connection still left).
      return connectPool(shadowPool, async () => {
        await endPool(shadowPool);
        await dropShadow(database);
      });
    },
  };

  let closed = false;
  return {
    factory,
    description: describePgConfig(config),
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        const leftovers = [...pools];
        await Promise.all(leftovers.map((pool) => endPool(pool)));
        for (const database of [...shadowDatabases]) await dropShadow(database);
      } finally {
        uninstallPatch();
      }
    },
  };
}

/**
 * adapter-pg 7.10 throws "Unsupported column type char" on PostgreSQL's internal `"char"` type (OID 18), which the
 * engine's catalog queries return (e.g. pg_constraint.contype). pg parses OID 18 and text (25) the same way (as a
 * string), so reporting 18 as 25 only changes the metadata adapter-pg looks at. The patch is process-wide (it lives on
 * pg's Query prototype), so it is reference-counted and removed when the last migration connection closes.
 */
interface PgRowDescriptionField {
  dataTypeID: number;
}
interface PgQueryInternals {
  handleRowDescription: (this: unknown, msg: { fields: PgRowDescriptionField[] }) => void;
}

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;
let charPatch: { count: number; original: PgQueryInternals["handleRowDescription"] } | undefined;

function installCharOidPatch(): () => void {
  // @types/pg does not declare the Query protocol handlers; this narrow interface covers the one we wrap.
  const proto = (pg as unknown as { Query: { prototype: PgQueryInternals } }).Query.prototype;
  if (!charPatch) {
    const original = proto.handleRowDescription;
    if (typeof original !== "function") throw new Error("pg.Query.prototype.handleRowDescription is missing: pg changed");
    charPatch = { count: 0, original };
    proto.handleRowDescription = function (this: unknown, msg) {
      for (const field of msg.fields) if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
      return original.call(this, msg);
    };
  }
  charPatch.count += 1;
  let uninstalled = false;
  return () => {
    if (uninstalled || !charPatch) return;
    uninstalled = true;
    charPatch.count -= 1;
    if (charPatch.count === 0) {
      proto.handleRowDescription = charPatch.original;
      charPatch = undefined;
    }
  };
}
