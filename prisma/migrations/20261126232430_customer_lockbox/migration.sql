-- CreateEnum
CREATE TYPE "AccessRequestKind" AS ENUM ('STANDARD', 'CUSTOMER_LOCKBOX');

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "vendorName" TEXT;

-- AlterTable
ALTER TABLE "ElevatedAccessControl" ADD COLUMN     "lockboxApproverGroupId" UUID,
ADD COLUMN     "lockboxMaxDurationHours" INTEGER NOT NULL DEFAULT 4,
ADD COLUMN     "lockboxRequestLifetimeHours" INTEGER NOT NULL DEFAULT 12;

-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "kind" "AccessRequestKind" NOT NULL DEFAULT 'STANDARD';

-- CreateIndex
CREATE INDEX "AccessRequest_organizationId_kind_createdAt_idx" ON "AccessRequest"("organizationId", "kind", "createdAt");

-- AddForeignKey
ALTER TABLE "ElevatedAccessControl" ADD CONSTRAINT "ElevatedAccessControl_lockboxApproverGroupId_fkey" FOREIGN KEY ("lockboxApproverGroupId") REFERENCES "ApproverGroup"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
