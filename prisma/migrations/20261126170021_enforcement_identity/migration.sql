-- CreateEnum
CREATE TYPE "UnknownTaskAction" AS ENUM ('DENY', 'ALLOW');

-- AlterEnum
ALTER TYPE "AuthorizeReason" ADD VALUE 'UNKNOWN_TASK';

-- DropIndex
DROP INDEX "User_email_key";

-- DropIndex
DROP INDEX "CatalogEntry_organizationId_type_name_key";

-- AlterTable (existing organizations were named in tokens by their ID)
ALTER TABLE "Organization" ADD COLUMN     "tenantId" TEXT;
UPDATE "Organization" SET "tenantId" = id::text;
ALTER TABLE "Organization" ALTER COLUMN "tenantId" SET NOT NULL;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "subject" TEXT;

-- AlterTable
ALTER TABLE "ElevatedAccessControl" ADD COLUMN     "unknownTasks" "UnknownTaskAction" NOT NULL DEFAULT 'DENY';

-- AlterTable (existing names are ASCII: their canonical form is lower case with one backslash)
ALTER TABLE "CatalogEntry" ADD COLUMN     "key" TEXT,
ADD COLUMN     "shortKey" TEXT;
UPDATE "CatalogEntry" SET "key" = lower(replace(name, '/', '\'));
UPDATE "CatalogEntry" SET "shortKey" = regexp_replace("key", '^.*\\', '') WHERE type = 'TASK';
ALTER TABLE "CatalogEntry" ALTER COLUMN "key" SET NOT NULL;

-- AlterTable (requests keep the approval type of their policy, and requests of removed policies were manual)
ALTER TABLE "AccessRequest" ADD COLUMN     "approvalType" "ApprovalType";
UPDATE "AccessRequest" r SET "approvalType" = COALESCE(
  (SELECT p."approvalType" FROM "ApprovalPolicy" p WHERE p.id = r."policyId"), 'MANUAL');
ALTER TABLE "AccessRequest" ALTER COLUMN "approvalType" SET NOT NULL;

-- AlterTable
ALTER TABLE "TaskExecution" ADD COLUMN     "resolvedTask" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Organization_tenantId_key" ON "Organization"("tenantId");

-- CreateIndex
CREATE UNIQUE INDEX "User_organizationId_subject_key" ON "User"("organizationId", "subject");

-- CreateIndex
CREATE INDEX "CatalogEntry_organizationId_type_shortKey_idx" ON "CatalogEntry"("organizationId", "type", "shortKey");

-- CreateIndex
CREATE UNIQUE INDEX "CatalogEntry_organizationId_type_key_key" ON "CatalogEntry"("organizationId", "type", "key");
