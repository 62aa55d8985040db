import pg from "pg";
import { migrationSql } from "@/server/testing/migrations";

/** Connections of the chaos harness itself carry this name, so the connection dropper spares them. */
export const HARNESS_APPLICATION_NAME = "switchboard-chaos";

export interface ScratchDatabase {
  name: string;
  /** For the workers: a plain URL to the scratch database. */
  url: string;
  /** For the harness: the same database, with the harness's application_name. */
  harnessUrl: string;
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, database: string): URL {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  url.search = "";
  return url;
}

/**
 * A fresh, migrated database on the PostgreSQL server of `serverUrl` (any database URL on that server). Its name
 * contains "test", like every database this project's tooling may create and drop.
 */
export async function createScratchDatabase(serverUrl: string, name: string): Promise<ScratchDatabase> {
  if (!/^[a-z0-9_]+$/.test(name) || !name.includes("test")) throw new Error(`"${name}" is not a scratch database name (a-z, 0-9, _ and containing "test").`);
  const adminUrl = withDatabase(serverUrl, "postgres").toString();
  const admin = new pg.Client({ connectionString: adminUrl, application_name: HARNESS_APPLICATION_NAME });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`PostgreSQL at ${adminUrl} is not reachable (${(error as Error).message}). Start it, or pass --postgres <url>.`, { cause: error });
  }
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl, name);
  const client = new pg.Client({ connectionString: url.toString(), application_name: HARNESS_APPLICATION_NAME });
  await client.connect();
  try {
    for (const sql of migrationSql()) await client.query(sql);
  } finally {
    await client.end();
  }
  const harnessUrl = new URL(url);
  harnessUrl.searchParams.set("application_name", HARNESS_APPLICATION_NAME);
  return {
    name,
    url: url.toString(),
    harnessUrl: harnessUrl.toString(),
    drop: async () => {
      const cleanup = new pg.Client({ connectionString: adminUrl, application_name: HARNESS_APPLICATION_NAME });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
