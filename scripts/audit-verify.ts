import { closeDatabase, getDb } from "../server/db";
import { verifyAuditChain } from "../server/domain/audit/audit-log";

/** `npm run audit:verify`: recompute every org's audit hash chain; exit 1 naming the first broken event. */
async function main(): Promise<void> {
  const result = await verifyAuditChain(await getDb());
  await closeDatabase();
  if (result.ok) {
    console.log(`${result.events} events, chain intact`);
    process.exit(0);
  }
  const { brokenAt } = result;
  console.error(`Audit chain broken at event ${brokenAt.id} (org ${brokenAt.orgId}, seq ${brokenAt.seq}): ${brokenAt.problem}`);
  process.exit(1);
}

void main();
