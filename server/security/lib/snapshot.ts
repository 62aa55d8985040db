import type { Db } from "@/server/db";

/** Every table with an org_id column: the tenant tables (found from the live schema, so new tables are included). */
export async function tenantTables(db: Db): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<{ table_name: string }[]>(
    "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'org_id' ORDER BY table_name",
  );
  return rows.map((row) => row.table_name);
}

export type OrgSnapshot = Record<string, Record<string, unknown>[]>;

/** Every row an org owns (its org row, its users, and each tenant table), exactly as stored (as JSON, any column type). */
export async function snapshotOrg(db: Db, orgId: string, tables: readonly string[]): Promise<OrgSnapshot> {
  const rowsOf = async (sql: string) =>
    (await db.$queryRawUnsafe<{ row: string }[]>(sql, orgId)).map((item) => JSON.parse(item.row) as Record<string, unknown>);
  const snapshot: OrgSnapshot = {};
  snapshot.orgs = await rowsOf('SELECT to_jsonb(o)::text AS row FROM "orgs" o WHERE o.id = $1');
  snapshot.users = await rowsOf(
    'SELECT to_jsonb(u)::text AS row FROM "users" u JOIN "memberships" m ON m.user_id = u.id WHERE m.org_id = $1 ORDER BY u.id',
  );
  for (const table of tables) snapshot[table] = await rowsOf(`SELECT to_jsonb(t)::text AS row FROM "${table}" t WHERE t.org_id = $1 ORDER BY 1`);
  return snapshot;
}

/** Stable text of any value the database or an endpoint returns (BigInt, Date, Buffer, Uint8Array included). */
export function serialize(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === "bigint") return item.toString();
    if (item instanceof Uint8Array) return Buffer.from(item).toString("base64");
    return item;
  });
}

/** Tables whose rows differ between two snapshots. */
export function changedTables(before: OrgSnapshot, after: OrgSnapshot): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => serialize(before[name]) !== serialize(after[name]));
}

/** Every id of every row, by table: the references another org must never be able to use. */
export function idsByTable(snapshot: OrgSnapshot): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(snapshot).map(([table, rows]) => [table, rows.map((row) => row.id).filter((id): id is string => typeof id === "string")]),
  );
}
