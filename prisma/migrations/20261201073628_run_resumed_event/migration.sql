-- AlterEnum
ALTER TYPE "RunEventType" ADD VALUE 'RUN_RESUMED';
