-- CreateTable
CREATE TABLE "spend_reservations" (
    "id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "agent_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "estimate_micros" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "spend_reservations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "spend_reservations_org_id_expires_at_idx" ON "spend_reservations"("org_id", "expires_at");

-- CreateIndex
CREATE INDEX "spend_reservations_run_id_idx" ON "spend_reservations"("run_id");

-- AddForeignKey
ALTER TABLE "spend_reservations" ADD CONSTRAINT "spend_reservations_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "spend_reservations" ADD CONSTRAINT "spend_reservations_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
