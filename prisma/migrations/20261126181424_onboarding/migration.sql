-- AlterTable
ALTER TABLE "Organization" ADD COLUMN     "rolesFromToken" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "scimSecretHash" TEXT;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "active" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "externalId" TEXT;

-- AlterTable
ALTER TABLE "ApproverGroup" ADD COLUMN     "externalId" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Organization_scimSecretHash_key" ON "Organization"("scimSecretHash");

-- CreateIndex
CREATE UNIQUE INDEX "User_organizationId_externalId_key" ON "User"("organizationId", "externalId");

-- CreateIndex
CREATE UNIQUE INDEX "ApproverGroup_organizationId_externalId_key" ON "ApproverGroup"("organizationId", "externalId");
