-- AddForeignKey
ALTER TABLE "inbox_items" ADD CONSTRAINT "inbox_items_decided_by_id_fkey" FOREIGN KEY ("decided_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
