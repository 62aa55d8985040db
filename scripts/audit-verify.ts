import { closeDatabase, getDb } from "../server/db";
import { verifyAuditChain } from "../server/domain/audit/audit-log";

/**
 * `npm run audit:verify [-- --org <orgId>]`: recompute every org's audit hash chain (or one org's). Prints
 * "N events, chain intact" and exits 0, or names the first broken event of every org whose chain is broken (one
 * line each, on stderr) and exits 1. Exits 2 when it cannot check at all (bad arguments, database unreachable).
 */
function orgArgument(args: readonly string[]): string | undefined {
  if (args.length === 0) return undefined;
  const [flag, value] = args;
  if (args.length === 1 && flag?.startsWith("--org=") && flag.length > "--org=".length) return flag.slice("--org=".length);
  if (args.length === 2 && flag === "--org" && value) return value;
  throw new Error("usage: audit-verify [--org <orgId>]");
}

async function main(): Promise<number> {
  const orgId = orgArgument(process.argv.slice(2));
  const db = await getDb();
  try {
    const orgs = await db.org.findMany({ where: orgId ? { id: orgId } : {}, select: { id: true }, orderBy: { id: "asc" } });
    if (orgId && orgs.length === 0) throw new Error(`there is no organisation with id ${orgId}`);
    let events = 0;
    let broken = 0;
    for (const org of orgs) {
      const result = await verifyAuditChain(db, org.id);
      events += result.events;
      if (!result.ok) {
        broken += 1;
        const { brokenAt } = result;
        console.error(`Audit chain broken at event ${brokenAt.id} (org ${brokenAt.orgId}, seq ${brokenAt.seq}): ${brokenAt.problem}`);
      }
    }
    if (broken === 0) {
      console.log(`${events} events, chain intact`);
      return 0;
    }
    console.error(`${broken} of ${orgs.length} organisations have a broken audit chain.`);
    return 1;
  } finally {
    await closeDatabase();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`Could not verify the audit log: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
