-- AlterTable
ALTER TABLE "ElevatedAccessControl" ADD COLUMN     "reminderHours" INTEGER[] DEFAULT ARRAY[4, 20]::INTEGER[];
