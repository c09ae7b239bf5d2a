import { pino } from "pino";
import type { Db } from "../../src/db/client.ts";
import { type Actor, type EffectSink, type ServiceContext, serviceContext } from "../../src/domain/context.ts";
import { enableElevatedAccessControl } from "../../src/domain/control/control.service.ts";
import { actorById } from "../../src/domain/identity.ts";
import { createApprovalPolicy } from "../../src/domain/policies/policies.service.ts";
import { createEffectSink, jobEffectHandlers } from "../../src/jobs/effects.ts";
import { JobQueues } from "../../src/jobs/producer.ts";
import { type JobKind, jobKinds, jobTable } from "../../src/jobs/queues.ts";
import { Reconciler } from "../../src/jobs/reconciler.ts";
import { producerConnection, whenReady } from "../../src/jobs/redis.ts";

import { testAuditKeys } from "./audit-keys.ts";

export const silentLogger = pino({ level: "silent" });

/** A reconciler over these queues that runs only when a test calls `runOnce`. */
export function reconcilerFor(db: Db, effects: EffectSink, queues: JobQueues): Reconciler {
  return new Reconciler({
    deps: { db, effects, auditKeys: testAuditKeys },
    queues,
    logger: silentLogger,
    intervalSeconds: 3600,
  });
}

/** An effect sink that does nothing: a process that died right after commit. */
export const noEffects: EffectSink = { dispatch: async () => {} };

export const target = "Exchange\\New-MoveRequest";

export async function actorFor(db: Db, email: string): Promise<Actor> {
  const user = await db.user.findFirstOrThrow({ where: { email } });
  const actor = await actorById(db, user.organizationId, user.id);
  if (!actor) throw new Error(`no actor ${email}`);
  return actor;
}

export function contextFor(db: Db, actor: Actor, effects: EffectSink = noEffects): ServiceContext {
  return serviceContext({ db, effects, auditKeys: testAuditKeys }, actor.organizationId, actor);
}

export interface Fabrikam {
  admin: Actor;
  requester: Actor;
  approver: Actor;
}

/** Turns Fabrikam's control on with a MANUAL policy for `target`, through the domain. */
export async function prepareFabrikam(db: Db): Promise<Fabrikam> {
  const admin = await actorFor(db, "admin@fabrikam.com");
  await enableElevatedAccessControl(contextFor(db, admin), { adminGroup: "pamapprovers@fabrikam.com" });
  await createApprovalPolicy(contextFor(db, admin), { target, approvalType: "MANUAL" });
  return {
    admin,
    requester: await actorFor(db, "requester@fabrikam.com"),
    approver: await actorFor(db, "approver1@fabrikam.com"),
  };
}

/**
 * A request's columns for `target` under its policy, to insert in bulk: the domain
 * keeps one open request per requester and target, bulk tests need thousands.
 */
async function requestTemplate(db: Db, requester: Actor) {
  const policy = await db.approvalPolicy.findFirstOrThrow({
    where: { organizationId: requester.organizationId, target },
  });
  const createdAt = new Date();
  return {
    organizationId: requester.organizationId,
    requesterId: requester.id,
    policyId: policy.id,
    approvalType: policy.approvalType,
    approverGroupId: policy.approverGroupId,
    requiredApprovals: policy.requiredApprovals,
    type: policy.type,
    scope: policy.scope,
    target: policy.target,
    catalogEntryId: policy.catalogEntryId,
    reason: "bulk test",
    durationHours: 4,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 24 * 3_600_000),
  };
}

/** Inserts one PENDING request per expiry in a single statement; returns their IDs in order. */
export async function insertPendingRequests(db: Db, requester: Actor, expiries: Date[]): Promise<string[]> {
  const fields = await requestTemplate(db, requester);
  const rows = await db.accessRequest.createManyAndReturn({
    data: expiries.map((expiresAt) => ({ ...fields, expiresAt })),
    select: { id: true },
  });
  return rows.map((row) => row.id);
}

/** Inserts one APPROVED request with an ACTIVE authorization per end time. */
export async function insertActiveAuthorizations(
  db: Db,
  requester: Actor,
  ends: Date[],
): Promise<{ authorizationId: string; requestId: string }[]> {
  const fields = await requestTemplate(db, requester);
  const now = new Date();
  const requests = await db.accessRequest.createManyAndReturn({
    data: ends.map(() => ({ ...fields, status: "APPROVED" as const, decidedAt: now })),
    select: { id: true },
  });
  const authorizations = await db.accessAuthorization.createManyAndReturn({
    data: ends.map((endsAt, index) => ({
      organizationId: fields.organizationId,
      requestId: requests[index]!.id,
      userId: fields.requesterId,
      catalogEntryId: fields.catalogEntryId,
      type: fields.type,
      target: fields.target,
      startsAt: now,
      endsAt,
    })),
    select: { id: true, requestId: true },
  });
  return authorizations.map((row) => ({ authorizationId: row.id, requestId: row.requestId }));
}

/** How many audit events with `action` each subject has (subjects without any are left out). */
export async function auditCounts(db: Db, action: string, subjectIds: string[]): Promise<Map<string, number>> {
  const groups = await db.auditEvent.groupBy({
    by: ["subjectId"],
    where: { action, subjectId: { in: subjectIds } },
    _count: { _all: true },
  });
  return new Map(groups.map((group) => [group.subjectId!, group._count._all]));
}

/** The application's producer and effect sink, pointed at a test's Redis and queue prefix. */
export async function jobClient(redisUrl: string, queuePrefix: string) {
  const redis = producerConnection(redisUrl, silentLogger);
  if (!(await whenReady(redis, 5000))) throw new Error(`Redis at ${redisUrl} is not reachable`);
  const queues = new JobQueues(redis, queuePrefix, silentLogger);
  const effects = createEffectSink([jobEffectHandlers(queues)], silentLogger);
  return {
    redis,
    queues,
    effects,
    job: (kind: JobKind, subjectId: string) => queues.queue(kind).getJob(jobTable[kind].jobId(subjectId)),
    jobState: (kind: JobKind, subjectId: string) => queues.queue(kind).getJobState(jobTable[kind].jobId(subjectId)),
    /** Removes this prefix's queues from Redis (when it answers) and disconnects. */
    async close() {
      if (redis.status === "ready") {
        for (const kind of jobKinds)
          await queues
            .queue(kind)
            .obliterate({ force: true })
            .catch(() => {});
      }
      await queues.close();
      redis.disconnect();
    },
  };
}

export type JobClient = Awaited<ReturnType<typeof jobClient>>;

/** A queue prefix no other test file uses, so files sharing one Redis never see each other's jobs. */
export function uniquePrefix(name: string): string {
  return `test-${name}-${process.pid}-${Date.now().toString(36)}`;
}
