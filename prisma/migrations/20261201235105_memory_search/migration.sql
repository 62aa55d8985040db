-- AlterTable
ALTER TABLE "knowledge_chunks" ADD COLUMN     "search_vector" tsvector;

-- AlterTable
ALTER TABLE "memories" ADD COLUMN     "search_vector" tsvector;

-- CreateTable
CREATE TABLE "memory_revisions" (
    "id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "memory_id" TEXT NOT NULL,
    "content" TEXT NOT NULL,
    "edited_by_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "memory_revisions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "memory_revisions_memory_id_idx" ON "memory_revisions"("memory_id");

-- CreateIndex
CREATE INDEX "knowledge_chunks_search_vector_idx" ON "knowledge_chunks" USING GIN ("search_vector");

-- CreateIndex
CREATE INDEX "memories_search_vector_idx" ON "memories" USING GIN ("search_vector");

-- AddForeignKey
ALTER TABLE "memory_revisions" ADD CONSTRAINT "memory_revisions_memory_id_fkey" FOREIGN KEY ("memory_id") REFERENCES "memories"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The full-text columns follow their content: a trigger keeps them, so every writer (Prisma, raw SQL, seeds) is
-- covered and deleting or editing a row removes the old terms from the index with it.
CREATE FUNCTION "switchboard_search_vector"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."search_vector" := to_tsvector('english', coalesce(NEW."content", ''));
  RETURN NEW;
END
$$;

CREATE TRIGGER "memories_search_vector" BEFORE INSERT OR UPDATE OF "content" ON "memories"
  FOR EACH ROW EXECUTE FUNCTION "switchboard_search_vector"();

CREATE TRIGGER "knowledge_chunks_search_vector" BEFORE INSERT OR UPDATE OF "content" ON "knowledge_chunks"
  FOR EACH ROW EXECUTE FUNCTION "switchboard_search_vector"();

UPDATE "memories" SET "search_vector" = to_tsvector('english', "content");
UPDATE "knowledge_chunks" SET "search_vector" = to_tsvector('english', "content");
