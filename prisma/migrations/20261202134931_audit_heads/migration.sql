-- CreateTable
CREATE TABLE "audit_heads" (
    "org_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "prev_hash" TEXT NOT NULL,

    CONSTRAINT "audit_heads_pkey" PRIMARY KEY ("org_id")
);

-- AddForeignKey
ALTER TABLE "audit_heads" ADD CONSTRAINT "audit_heads_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Every existing chain's head: its last event.
INSERT INTO "audit_heads" ("org_id", "seq", "hash", "prev_hash")
SELECT DISTINCT ON ("org_id") "org_id", "seq", "hash", "prev_hash"
  FROM "audit_events"
 ORDER BY "org_id", "seq" DESC;
