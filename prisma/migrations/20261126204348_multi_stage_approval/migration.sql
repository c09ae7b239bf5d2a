-- AlterEnum
ALTER TYPE "WebhookEventType" ADD VALUE 'ACCESS_REQUEST_STAGE_COMPLETED';

-- AlterTable
ALTER TABLE "ApprovalPolicy" ADD COLUMN     "laterStages" JSONB;

-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "laterStages" JSONB,
ADD COLUMN     "stage" INTEGER NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "AccessDecision" ADD COLUMN     "stage" INTEGER NOT NULL DEFAULT 1;
