import pg from "pg";
import { migrationSql } from "./databases";

/**
 * Integration tests share one PostgreSQL database (DATABASE_URL_TEST): reset it to exactly the migrations, once
 * per test run. Refuses any database whose name does not say it is for tests.
 */
export default async function setup(): Promise<void> {
  const url = process.env.DATABASE_URL_TEST ?? "postgresql://postgres@127.0.0.1:5432/test";
  const name = new URL(url).pathname.slice(1);
  if (!/test/i.test(name)) throw new Error(`Refusing to reset "${name}": DATABASE_URL_TEST must name a test database.`);
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL at ${url} is not reachable (${(error as Error).message}). Start it, or set DATABASE_URL_TEST.`, { cause: error });
  }
  try {
    await client.query("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;");
    for (const sql of migrationSql()) await client.query(sql);
  } finally {
    await client.end();
  }
}
