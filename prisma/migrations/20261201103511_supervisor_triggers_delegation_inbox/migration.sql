/*
  Warnings:

  - A unique constraint covering the columns `[event_id]` on the table `inbox_items` will be added. If there are existing duplicate values, this will fail.
  - A unique constraint covering the columns `[agent_id,scheduled_for]` on the table `runs` will be added. If there are existing duplicate values, this will fail.

*/
-- AlterEnum
ALTER TYPE "RunStatus" ADD VALUE 'WAITING_CHILDREN';

-- AlterTable
ALTER TABLE "agents" ADD COLUMN     "schedule_since" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "inbox_items" ADD COLUMN     "event_id" TEXT;

-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "scheduled_for" TIMESTAMP(3);

-- CreateIndex
CREATE UNIQUE INDEX "inbox_items_event_id_key" ON "inbox_items"("event_id");

-- CreateIndex
CREATE UNIQUE INDEX "runs_agent_id_scheduled_for_key" ON "runs"("agent_id", "scheduled_for");
