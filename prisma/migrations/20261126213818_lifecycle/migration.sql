-- AlterEnum
ALTER TYPE "AuthorizationStatus" ADD VALUE 'SCHEDULED';

-- AlterTable
ALTER TABLE "ElevatedAccessControl" ADD COLUMN     "reminderHours" INTEGER[] DEFAULT ARRAY[4, 20]::INTEGER[];

-- AlterTable
ALTER TABLE "ApprovalPolicy" ADD COLUMN     "ticketPattern" TEXT,
ADD COLUMN     "ticketRequired" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "extendsAuthorizationId" UUID,
ADD COLUMN     "startsAt" TIMESTAMPTZ(3),
ADD COLUMN     "ticket" TEXT;

-- AlterTable
ALTER TABLE "AccessDecision" ADD COLUMN     "durationHours" INTEGER;

-- AlterTable
ALTER TABLE "AccessAuthorization" ADD COLUMN     "endComment" TEXT;

-- CreateIndex
CREATE INDEX "AccessRequest_extendsAuthorizationId_status_idx" ON "AccessRequest"("extendsAuthorizationId", "status");
