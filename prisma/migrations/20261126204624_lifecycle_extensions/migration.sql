-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "extendsAuthorizationId" UUID;

-- CreateIndex
CREATE INDEX "AccessRequest_extendsAuthorizationId_status_idx" ON "AccessRequest"("extendsAuthorizationId", "status");
