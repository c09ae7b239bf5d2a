-- AlterEnum
ALTER TYPE "AuthorizeReason" ADD VALUE 'REFUSED';

-- AlterTable
ALTER TABLE "ElevatedAccessControl" ADD COLUMN     "maxPendingRequestsPerUser" INTEGER NOT NULL DEFAULT 10;

-- AlterTable
ALTER TABLE "TaskExecution" ADD COLUMN     "refusal" TEXT;

-- AlterTable
ALTER TABLE "AuditEvent" ADD COLUMN     "mac" TEXT;

-- CreateTable
CREATE TABLE "AuditCheckpoint" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "issuedAt" TIMESTAMPTZ(3) NOT NULL,
    "auditSequence" INTEGER NOT NULL,
    "auditHash" TEXT NOT NULL,
    "executionsUntil" TIMESTAMPTZ(3) NOT NULL,
    "executionsCount" INTEGER NOT NULL,
    "executionsDigest" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "signature" TEXT NOT NULL,

    CONSTRAINT "AuditCheckpoint_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "AuditCheckpoint_organizationId_number_key" ON "AuditCheckpoint"("organizationId", "number");

-- AddForeignKey
ALTER TABLE "AuditCheckpoint" ADD CONSTRAINT "AuditCheckpoint_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

