-- AlterTable
ALTER TABLE "ElevatedAccessControl" ADD COLUMN     "mfaAcrValues" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "requireMfaForDecisions" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "ApprovalPolicy" ADD COLUMN     "requireMfa" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "requireMfa" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "AccessDecision" ADD COLUMN     "authContext" TEXT,
ADD COLUMN     "authMethods" TEXT[] DEFAULT ARRAY[]::TEXT[];
