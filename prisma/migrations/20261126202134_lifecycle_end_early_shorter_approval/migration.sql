-- AlterTable
ALTER TABLE "AccessDecision" ADD COLUMN     "durationHours" INTEGER;

-- AlterTable
ALTER TABLE "AccessAuthorization" ADD COLUMN     "endComment" TEXT;
