-- AlterEnum
ALTER TYPE "AuthorizationStatus" ADD VALUE 'SCHEDULED';

-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "startsAt" TIMESTAMPTZ(3);
