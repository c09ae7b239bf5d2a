import { z } from "zod";
import type { AuthorizeReason, Prisma } from "../../db/client.ts";
import { requireActor } from "../access.ts";
import type { ServiceContext } from "../context.ts";
import { ForbiddenError, NotFoundError } from "../errors.ts";
import { emailAddress, nonEmptyText, parseInput } from "../validation.ts";
import { coveringEntries, organizationCoverage } from "./coverage-cache.ts";

const authorizeTaskInput = z.object({
  task: nonEmptyText(256),
  userEmail: emailAddress.nullish(),
  parameters: z
    .unknown()
    .nullish()
    .refine((value) => value == null || JSON.stringify(value).length <= 16_384, "must be at most 16 KB of JSON"),
});

export interface TaskAuthorizationResult {
  allowed: boolean;
  reason: AuthorizeReason;
  authorizationId: string | null;
  executionId: string;
}

/**
 * The per-execution check enforcement services call before every privileged task.
 * Decides from cached coverage and one indexed lookup of an ACTIVE grant whose
 * endsAt is still ahead (so access never waits on the job that ends it), and logs
 * every call, allowed or not, as a TaskExecution.
 */
export async function authorizeTask(ctx: ServiceContext, rawInput: unknown): Promise<TaskAuthorizationResult> {
  const caller = requireActor(ctx);
  const input = parseInput(authorizeTaskInput, rawInput);
  let userId = caller.id;
  if (input.userEmail && input.userEmail !== caller.email) {
    if (!caller.roles.includes("ENFORCER")) {
      throw new ForbiddenError("only enforcement services may check tasks on behalf of another user");
    }
    const user = await ctx.db.user.findFirst({
      where: { organizationId: ctx.organizationId, email: input.userEmail },
      select: { id: true },
    });
    if (!user) throw new NotFoundError("userEmail", "user");
    userId = user.id;
  }

  const now = new Date();
  const coverage = await organizationCoverage(ctx.db, ctx.organizationId);
  let reason: AuthorizeReason;
  let authorizationId: string | null = null;
  if (!coverage.enabled) {
    reason = "CONTROL_DISABLED";
  } else if (coverage.systemAccountIds.has(userId)) {
    reason = "SYSTEM_ACCOUNT";
  } else {
    const entries = await coveringEntries(ctx.db, coverage, ctx.organizationId, input.task);
    if (!entries.some((id) => coverage.policyEntryIds.has(id))) {
      reason = "NOT_GOVERNED";
    } else {
      const grant = await ctx.db.accessAuthorization.findFirst({
        where: { userId, status: "ACTIVE", catalogEntryId: { in: entries }, endsAt: { gt: now } },
        orderBy: { endsAt: "desc" },
        select: { id: true },
      });
      authorizationId = grant?.id ?? null;
      reason = grant ? "ACTIVE_AUTHORIZATION" : "NO_AUTHORIZATION";
    }
  }
  const execution = await ctx.db.taskExecution.create({
    data: {
      organizationId: ctx.organizationId,
      userId,
      callerId: caller.id,
      task: input.task,
      allowed: reason !== "NO_AUTHORIZATION",
      reason,
      authorizationId,
      parameters: (input.parameters ?? undefined) as Prisma.InputJsonValue | undefined,
      at: now,
    },
    select: { id: true },
  });
  return { allowed: reason !== "NO_AUTHORIZATION", reason, authorizationId, executionId: execution.id };
}
