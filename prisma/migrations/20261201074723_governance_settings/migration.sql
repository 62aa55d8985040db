-- AlterTable
ALTER TABLE "orgs" ADD COLUMN     "governance" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "tools" ADD COLUMN     "approved_description" TEXT,
ADD COLUMN     "approved_input_schema" JSONB;
