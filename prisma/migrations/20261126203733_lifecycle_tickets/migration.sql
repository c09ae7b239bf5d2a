-- AlterTable
ALTER TABLE "ApprovalPolicy" ADD COLUMN     "ticketPattern" TEXT,
ADD COLUMN     "ticketRequired" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "ticket" TEXT;
