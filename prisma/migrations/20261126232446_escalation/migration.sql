-- AlterEnum
ALTER TYPE "WebhookEventType" ADD VALUE 'ACCESS_REQUEST_ESCALATED';

-- AlterTable
ALTER TABLE "ApprovalPolicy" ADD COLUMN     "escalateAfterHours" INTEGER,
ADD COLUMN     "escalationGroupId" UUID;

-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "escalateAt" TIMESTAMPTZ(3),
ADD COLUMN     "escalatedAt" TIMESTAMPTZ(3),
ADD COLUMN     "escalationGroupId" UUID;

-- AddForeignKey
ALTER TABLE "ApprovalPolicy" ADD CONSTRAINT "ApprovalPolicy_escalationGroupId_fkey" FOREIGN KEY ("escalationGroupId") REFERENCES "ApproverGroup"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessRequest" ADD CONSTRAINT "AccessRequest_escalationGroupId_fkey" FOREIGN KEY ("escalationGroupId") REFERENCES "ApproverGroup"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
