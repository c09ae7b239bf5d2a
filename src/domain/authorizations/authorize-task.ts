import { z } from "zod";
import { batched } from "../../db/batch.ts";
import { type AccessRequestKind, type AuthorizeReason, type Db, Prisma } from "../../db/client.ts";
import { requireActor } from "../access.ts";
import type { ResolvedTask } from "../catalog/catalog.service.ts";
import type { Actor, ServiceContext } from "../context.ts";
import { DomainError, ForbiddenError, NotFoundError } from "../errors.ts";
import { type GrantTerms, grantSatisfies } from "../policies/strictness.ts";
import { emailAddress, jsonProblem, nonEmptyText, parseInput, unsafeTextReason } from "../validation.ts";
import { governingPolicies, organizationCoverage, resolvedTasks } from "./coverage-cache.ts";
import { type GrantsSeen, grantVersion, logExecution } from "./execution-log.ts";

const authorizeTaskInput = z.object({
  task: nonEmptyText(256),
  userEmail: emailAddress.nullish(),
  parameters: z
    .unknown()
    .nullish()
    .superRefine((value, ctx) => {
      const problem = value == null ? null : jsonProblem(value, { maxDepth: 32, maxBytes: 16_384 });
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
});

export interface TaskAuthorizationResult {
  allowed: boolean;
  reason: AuthorizeReason;
  authorizationId: string | null;
  executionId: string;
}

interface ActiveGrant extends GrantTerms {
  id: string;
  catalogEntryId: string;
  kind: AccessRequestKind;
}

const hour = 3_600_000;

type GrantRow = Omit<ActiveGrant, "durationHours"> & { startsAt: Date; endsAt: Date; version: string };

interface GrantLookup {
  userId: string;
  entryIds: string[];
  now: Date;
}

/** Lookups of one statement at most (3 parameters per entry). */
const maxLookups = 200;

/** The grants of concurrent lookups in one statement; each lookup gets its own rows, in the same order as alone. */
async function lookUpGrants(db: Db, lookups: GrantLookup[]): Promise<GrantRow[][]> {
  const keys = lookups.flatMap(({ userId, entryIds, now }, index) =>
    entryIds.map((entryId) => Prisma.sql`(${index}::int, ${userId}::uuid, ${entryId}::uuid, ${now}::timestamptz)`),
  );
  const found: GrantRow[][] = lookups.map(() => []);
  if (keys.length === 0) return found;
  const rows = await db.$queryRaw<(GrantRow & { lookup: number })[]>`
    SELECT k.lookup, a.id::text, a."catalogEntryId"::text, a."startsAt", a."endsAt", r."policyId"::text,
           r."approvalType", r."approverGroupId"::text, r."requiredApprovals", r.kind,
           COALESCE(jsonb_array_length(r."laterStages"), 0) + 1 AS "stageCount", ${grantVersion} AS version
    FROM (VALUES ${Prisma.join(keys)}) AS k(lookup, "userId", "entryId", now)
    JOIN "AccessAuthorization" a ON a."userId" = k."userId" AND a.status IN ('ACTIVE', 'SCHEDULED') AND a."catalogEntryId" = k."entryId"
      AND a."startsAt" <= k.now AND a."endsAt" > k.now
    JOIN "AccessRequest" r ON r.id = a."requestId"
    ORDER BY k.lookup, a."endsAt" DESC, a.id`;
  for (const { lookup, ...row } of rows) found[lookup]!.push(row);
  return found;
}

const grantLookups = new WeakMap<Db, (lookup: GrantLookup) => Promise<GrantRow[]>>();

/**
 * The grants last read per user and catalog entries. Only ever a guess: the verdict
 * decided on them is written to the execution log only if the database's grants are
 * still these, row version for row version (execution-log.ts), else decided again on
 * grants read afresh. So nothing here needs invalidating, and a revocation or an end
 * counts at the next call on every instance, as when every call read them.
 */
const lastRead = new Map<string, GrantRow[]>();
const maxLastRead = 10_000;

/**
 * The user's grants over these catalog entries that are in their window now, with the
 * terms they were approved under, and what the execution log must find to agree.
 * `fresh`: read from the database (concurrent reads share one statement), not the guess.
 */
async function activeGrants(
  db: Db,
  userId: string,
  entryIds: string[],
  now: Date,
  fresh: boolean,
): Promise<{ grants: ActiveGrant[]; seen: GrantsSeen }> {
  const key = `${userId}:${entryIds.join(",")}`;
  let rows = fresh ? undefined : lastRead.get(key);
  if (!rows) {
    let lookUp = grantLookups.get(db);
    if (!lookUp) {
      lookUp = batched((lookups) => lookUpGrants(db, lookups), { maxBatch: maxLookups });
      grantLookups.set(db, lookUp);
    }
    rows = await lookUp({ userId, entryIds, now });
    lastRead.delete(key);
    if (lastRead.size >= maxLastRead) lastRead.delete(lastRead.keys().next().value!);
    lastRead.set(key, rows);
  }
  const inWindow = rows.filter((row) => row.startsAt <= now && row.endsAt > now);
  return {
    grants: inWindow.map(({ startsAt, endsAt, version: _, ...grant }) => ({
      ...grant,
      durationHours: Math.ceil((endsAt.getTime() - startsAt.getTime()) / hour),
    })),
    seen: { entryIds, grants: inWindow.map((row) => row.version).sort() },
  };
}

interface Verdict {
  reason: AuthorizeReason;
  allowed: boolean;
  authorizationId: string | null;
  /** The grants it was decided on; null when it read none. */
  seen: GrantsSeen | null;
}

/**
 * Decides for the catalog tasks a name resolved to. A name typed without its module
 * can mean several tasks: it is allowed only when each of them would be.
 */
async function decideForTasks(
  ctx: ServiceContext,
  coverage: Awaited<ReturnType<typeof organizationCoverage>>,
  userId: string,
  tasks: ResolvedTask[],
  now: Date,
  fresh: boolean,
): Promise<Verdict> {
  const governed = tasks
    .map((task) => ({ task, governing: governingPolicies(coverage, task) }))
    .filter(({ governing }) => governing.length > 0);
  if (governed.length === 0) return { reason: "NOT_GOVERNED", allowed: true, authorizationId: null, seen: null };
  const entryIds = [...new Set(governed.flatMap(({ task }) => task.covering.map((entry) => entry.id)))];
  const { grants, seen } = await activeGrants(ctx.db, userId, entryIds, now, fresh);
  let authorizationId: string | null = null;
  for (const { task, governing } of governed) {
    const grant = grants.find(
      (candidate) =>
        task.covering.some((entry) => entry.id === candidate.catalogEntryId) && grantSatisfies(governing, candidate),
    );
    if (!grant) return { reason: "NO_AUTHORIZATION", allowed: false, authorizationId: null, seen };
    authorizationId ??= grant.id;
  }
  return { reason: "ACTIVE_AUTHORIZATION", allowed: true, authorizationId, seen };
}

/**
 * A Customer Lockbox vendor gets no access but its Lockbox grants: not through the control
 * being off, an ungoverned or unknown task, or a system-account listing. Each task the
 * name resolved to must be covered by one of its Lockbox grants in its window now.
 */
async function decideForVendor(
  ctx: ServiceContext,
  userId: string,
  tasks: ResolvedTask[],
  now: Date,
  fresh: boolean,
): Promise<Verdict> {
  if (tasks.length === 0) return { reason: "UNKNOWN_TASK", allowed: false, authorizationId: null, seen: null };
  const entryIds = [...new Set(tasks.flatMap((task) => task.covering.map((entry) => entry.id)))];
  const read = await activeGrants(ctx.db, userId, entryIds, now, fresh);
  const grants = read.grants.filter((grant) => grant.kind === "CUSTOMER_LOCKBOX");
  let authorizationId: string | null = null;
  for (const task of tasks) {
    const grant = grants.find((candidate) => task.covering.some((entry) => entry.id === candidate.catalogEntryId));
    if (!grant) return { reason: "NO_AUTHORIZATION", allowed: false, authorizationId: null, seen: read.seen };
    authorizationId ??= grant.id;
  }
  return { reason: "ACTIVE_AUTHORIZATION", allowed: true, authorizationId, seen: read.seen };
}

/**
 * The per-execution check enforcement services call before every privileged task.
 * The typed name is resolved through the catalog's canonical names, the task's
 * most specific policies decide which grants count (precedence, see
 * policies/strictness.ts), grants are checked against the database's window (so
 * access never waits on the job that ends it), and every call is logged as a
 * TaskExecution.
 */
export async function authorizeTask(ctx: ServiceContext, rawInput: unknown): Promise<TaskAuthorizationResult> {
  const caller = requireActor(ctx);
  try {
    await ctx.quotas.consume("authorizeTask", caller.id);
    return await checkTask(ctx, caller, parseInput(authorizeTaskInput, rawInput));
  } catch (error) {
    if (error instanceof DomainError) await logRefusal(ctx, caller, rawInput, error);
    throw error;
  }
}

/** What of a refused call's task name can be stored: the domain's text rule, bounded. */
function storableTask(rawInput: unknown): string {
  const task = (rawInput as { task?: unknown } | null)?.task;
  if (typeof task !== "string") return "";
  // NUL and lone surrogates (what unsafeTextReason refuses) become U+FFFD, so the log keeps the rest.
  const storable = unsafeTextReason(task)
    ? Array.from(task, (char) => (unsafeTextReason(char) ? "\uFFFD" : char)).join("")
    : task;
  return storable.slice(0, 256);
}

/** Refused calls are logged too, with why: a probe of who may check what leaves a trace. */
async function logRefusal(ctx: ServiceContext, caller: Actor, rawInput: unknown, error: DomainError) {
  await ctx.db.taskExecution.create({
    data: {
      organizationId: ctx.organizationId,
      userId: caller.id,
      callerId: caller.id,
      task: storableTask(rawInput),
      allowed: false,
      reason: "REFUSED",
      refusal: `${error.code}: ${error.message}`.slice(0, 1000),
      at: ctx.clock(),
    },
  });
}

async function checkTask(
  ctx: ServiceContext,
  caller: Actor,
  input: z.infer<typeof authorizeTaskInput>,
): Promise<TaskAuthorizationResult> {
  let userId = caller.id;
  let vendor = Boolean(caller.vendor);
  if (input.userEmail && input.userEmail !== caller.email) {
    if (!caller.roles.includes("ENFORCER")) {
      throw new ForbiddenError("only enforcement services may check tasks on behalf of another user");
    }
    const user = await ctx.db.user.findFirst({
      where: { organizationId: ctx.organizationId, email: input.userEmail },
      select: { id: true, vendorName: true },
    });
    if (!user) throw new NotFoundError("userEmail", "user");
    userId = user.id;
    vendor = user.vendorName !== null;
  }

  const now = ctx.clock();
  const coverage = await organizationCoverage(ctx.db, ctx.organizationId);
  const tasks = await resolvedTasks(ctx.db, coverage, ctx.organizationId, input.task);
  const decide = (fresh: boolean): Promise<Verdict> | Verdict => {
    if (vendor) return decideForVendor(ctx, userId, tasks, now, fresh);
    if (!coverage.enabled) return { reason: "CONTROL_DISABLED", allowed: true, authorizationId: null, seen: null };
    if (coverage.systemAccountIds.has(userId)) {
      return { reason: "SYSTEM_ACCOUNT", allowed: true, authorizationId: null, seen: null };
    }
    if (tasks.length === 0) {
      return { reason: "UNKNOWN_TASK", allowed: coverage.unknownTasks === "ALLOW", authorizationId: null, seen: null };
    }
    return decideForTasks(ctx, coverage, userId, tasks, now, fresh);
  };

  // Decided first on the grants last read (a guess), then, should the log find the grants
  // changed since, on grants read afresh; a third time (grants changing under every
  // check), on a fresh read logged as it is, as a read and a write in turn always were.
  for (let attempt = 0; ; attempt++) {
    const { seen, ...verdict } = await decide(attempt > 0);
    // Logged (committed) before it is answered; concurrent calls share one INSERT (execution-log.ts).
    const execution = await logExecution(
      ctx.db,
      {
        organizationId: ctx.organizationId,
        userId,
        callerId: caller.id,
        task: input.task,
        resolvedTask: tasks.length ? tasks.map((task) => task.name).join(", ") : null,
        allowed: verdict.allowed,
        reason: verdict.reason,
        authorizationId: verdict.authorizationId,
        parameters: input.parameters ?? null,
        at: now,
      },
      attempt < 2 ? seen : null,
    );
    if (execution.outcome === "stale") continue;
    // The caller was deactivated (or lost the enforcer role) since their token was resolved.
    if (execution.outcome === "refused") throw new ForbiddenError("the caller may no longer check tasks");
    return { ...verdict, executionId: execution.id };
  }
}
