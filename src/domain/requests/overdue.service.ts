import type { Db } from "../../db/client.ts";
import { activateAccessAuthorization, endAccessAuthorization } from "../authorizations/authorizations.service.ts";
import { type ServiceDeps, serviceContext } from "../context.ts";
import { organizationIds } from "../organizations.service.ts";
import { escalateRequest } from "./escalation.service.ts";
import { expireAccessRequest } from "./requests.service.ts";

/** A row that is waiting for a moment in time: a request's expiry or an authorization's end. */
export interface Deadline {
  id: string;
  organizationId: string;
  at: Date;
}

export interface SweepOptions {
  /** Rows read per query. */
  batchSize: number;
  /** Rows attempted per call at most; the rest wait for the next call. */
  limit: number;
  /** Transitions in flight at once. */
  concurrency: number;
  /** Checked between batches, so a shutdown does not wait for a whole sweep. */
  stopping?: () => boolean;
}

/** Runs `work` over `items`, `concurrency` at a time; returns what failed instead of stopping. */
export interface SweepResult {
  /** Rows this sweep moved on. */
  done: number;
  /** Errors of rows that could not be moved; they are retried by the next sweep. */
  failures: unknown[];
}

async function eachWithConcurrency<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const failures: unknown[] = [];
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item).catch((error: unknown) => failures.push(error));
    }
  });
  await Promise.all(lanes);
  return failures;
}

/**
 * Runs `transition` on every overdue row `overdue` finds, organization by organization.
 * "Overdue" is decided by the database's clock, the same for every API and worker host.
 * Stops an organization when a batch makes no progress (rows the transition refuses,
 * for example while this host's clock lags the database's), so a sweep always ends.
 */
async function sweep(
  db: Db,
  options: SweepOptions,
  overdue: (organizationId: string, limit: number) => Promise<Deadline[]>,
  transition: (row: Deadline) => Promise<boolean>,
): Promise<SweepResult> {
  const result: SweepResult = { done: 0, failures: [] };
  let attempted = 0;
  for (const organizationId of await organizationIds(db)) {
    for (;;) {
      if (options.stopping?.() || attempted >= options.limit) return result;
      const rows = await overdue(organizationId, Math.min(options.batchSize, options.limit - attempted));
      if (rows.length === 0) break;
      attempted += rows.length;
      let progressed = 0;
      const failures = await eachWithConcurrency(rows, options.concurrency, async (row) => {
        if (await transition(row)) progressed += 1;
      });
      result.done += progressed;
      result.failures.push(...failures);
      if (progressed === 0) break;
    }
  }
  return result;
}

/** Expires PENDING requests whose expiresAt has passed, each through `expireAccessRequest`. */
export function expireOverdueRequests(deps: ServiceDeps, options: SweepOptions): Promise<SweepResult> {
  return sweep(
    deps.db,
    options,
    (organizationId, limit) => deps.db.$queryRaw<Deadline[]>`
      SELECT id::text, "organizationId"::text, "expiresAt" AS at FROM "AccessRequest"
      WHERE "organizationId" = ${organizationId}::uuid AND status = 'PENDING' AND "expiresAt" <= now()
      ORDER BY "expiresAt", id LIMIT ${limit}`,
    async (row) => (await expireAccessRequest(serviceContext(deps, row.organizationId, null), row.id)).kind === "done",
  );
}

/**
 * Escalates PENDING requests whose escalation moment has passed without their job having
 * run (Redis lost it), each through `escalateRequest`, which escalates a request once.
 */
export function escalateOverdueRequests(deps: ServiceDeps, options: SweepOptions): Promise<SweepResult> {
  return sweep(
    deps.db,
    options,
    (organizationId, limit) => deps.db.$queryRaw<Deadline[]>`
      SELECT id::text, "organizationId"::text, "escalateAt" AS at FROM "AccessRequest"
      WHERE "organizationId" = ${organizationId}::uuid AND status = 'PENDING' AND "escalatedAt" IS NULL
        AND "escalateAt" <= now() AND "expiresAt" > now()
      ORDER BY "escalateAt", id LIMIT ${limit}`,
    async (row) => (await escalateRequest(serviceContext(deps, row.organizationId, null), row.id)).kind === "done",
  );
}

/** Ends ACTIVE authorizations whose endsAt has passed, each through `endAccessAuthorization`. */
export function endOverdueAuthorizations(deps: ServiceDeps, options: SweepOptions): Promise<SweepResult> {
  return sweep(
    deps.db,
    options,
    (organizationId, limit) => deps.db.$queryRaw<Deadline[]>`
      SELECT id::text, "organizationId"::text, "endsAt" AS at FROM "AccessAuthorization"
      WHERE "organizationId" = ${organizationId}::uuid AND status IN ('ACTIVE', 'SCHEDULED') AND "endsAt" <= now()
      ORDER BY "endsAt", id LIMIT ${limit}`,
    async (row) =>
      (await endAccessAuthorization(serviceContext(deps, row.organizationId, null), row.id)).kind === "done",
  );
}

/** Makes SCHEDULED authorizations whose startsAt has passed ACTIVE, each through `activateAccessAuthorization`. */
export function activateDueAuthorizations(deps: ServiceDeps, options: SweepOptions): Promise<SweepResult> {
  return sweep(
    deps.db,
    options,
    (organizationId, limit) => deps.db.$queryRaw<Deadline[]>`
      SELECT id::text, "organizationId"::text, "startsAt" AS at FROM "AccessAuthorization"
      WHERE "organizationId" = ${organizationId}::uuid AND status = 'SCHEDULED' AND "startsAt" <= now()
      ORDER BY "startsAt", id LIMIT ${limit}`,
    async (row) =>
      (await activateAccessAuthorization(serviceContext(deps, row.organizationId, null), row.id)).kind === "done",
  );
}

/**
 * Pages through the deadlines still ahead (PENDING requests, ACTIVE authorizations),
 * organization by organization in deadline order, so callers can make sure each has a job.
 */
export async function* upcomingDeadlines(
  db: Db,
  kind: "requestExpiry" | "authorizationEnd" | "authorizationStart",
  batchSize: number,
): AsyncGenerator<Deadline[]> {
  for (const organizationId of await organizationIds(db)) {
    let after: Deadline | null = null;
    for (;;) {
      const afterAt: Date = after?.at ?? new Date(0);
      const afterId: string = after?.id ?? "00000000-0000-0000-0000-000000000000";
      const rows: Deadline[] =
        kind === "authorizationStart"
          ? await db.$queryRaw<Deadline[]>`
              SELECT id::text, "organizationId"::text, "startsAt" AS at FROM "AccessAuthorization"
              WHERE "organizationId" = ${organizationId}::uuid AND status = 'SCHEDULED' AND "startsAt" > now()
                AND ("startsAt", id) > (${afterAt}, ${afterId}::uuid)
              ORDER BY "startsAt", id LIMIT ${batchSize}`
          : kind === "requestExpiry"
            ? await db.$queryRaw<Deadline[]>`
              SELECT id::text, "organizationId"::text, "expiresAt" AS at FROM "AccessRequest"
              WHERE "organizationId" = ${organizationId}::uuid AND status = 'PENDING' AND "expiresAt" > now()
                AND ("expiresAt", id) > (${afterAt}, ${afterId}::uuid)
              ORDER BY "expiresAt", id LIMIT ${batchSize}`
            : await db.$queryRaw<Deadline[]>`
              SELECT id::text, "organizationId"::text, "endsAt" AS at FROM "AccessAuthorization"
              WHERE "organizationId" = ${organizationId}::uuid AND status IN ('ACTIVE', 'SCHEDULED') AND "endsAt" > now()
                AND ("endsAt", id) > (${afterAt}, ${afterId}::uuid)
              ORDER BY "endsAt", id LIMIT ${batchSize}`;
      if (rows.length > 0) yield rows;
      if (rows.length < batchSize) break;
      after = rows[rows.length - 1]!;
    }
  }
}
