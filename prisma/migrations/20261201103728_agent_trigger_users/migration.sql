-- AlterTable
ALTER TABLE "agents" ADD COLUMN     "schedule_user_id" TEXT,
ADD COLUMN     "webhook_user_id" TEXT;

-- AddForeignKey
ALTER TABLE "agents" ADD CONSTRAINT "agents_schedule_user_id_fkey" FOREIGN KEY ("schedule_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agents" ADD CONSTRAINT "agents_webhook_user_id_fkey" FOREIGN KEY ("webhook_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
