-- AlterTable
ALTER TABLE "ElevatedAccessControl" ADD COLUMN     "timeZone" TEXT NOT NULL DEFAULT 'UTC';

-- AlterTable
ALTER TABLE "ApprovalPolicy" ADD COLUMN     "autoApproveWhen" JSONB;
