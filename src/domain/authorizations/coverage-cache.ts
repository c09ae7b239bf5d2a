import type { Db, UnknownTaskAction } from "../../db/client.ts";
import { type ResolvedTask, resolveTask } from "../catalog/catalog.service.ts";
import { canonicalName } from "../catalog/names.ts";
import { stageCountOf } from "../policies/stages.ts";
import { type GoverningPolicy, mostSpecific } from "../policies/strictness.ts";

/** What authorizeTask needs to know about an organization besides the grants themselves. */
export interface OrganizationCoverage {
  enabled: boolean;
  unknownTasks: UnknownTaskAction;
  systemAccountIds: Set<string>;
  /** The policy on each catalog entry that has one. */
  policies: Map<string, GoverningPolicy>;
  /** Per task name in canonical form: the catalog tasks it means. */
  tasks: Map<string, Promise<ResolvedTask[]>>;
}

// Per-process cache; every change of control, policies or catalog invalidates it
// after commit, here and (through Redis) on every other instance.
const cache = new Map<string, Promise<OrganizationCoverage>>();

export function invalidateCoverage(organizationId: string): void {
  cache.delete(organizationId);
}

/** While invalidations cannot arrive (the event connection is down), nothing is kept. */
let trusted = true;

/**
 * After a lost connection to the other instances, any of their invalidations may have
 * been missed: drops everything, and keeps nothing new until `keep` is true again.
 */
export function invalidateAllCoverage(keep = true): void {
  cache.clear();
  trusted = keep;
}

async function loadCoverage(db: Db, organizationId: string): Promise<OrganizationCoverage> {
  const [control, policies] = await Promise.all([
    db.elevatedAccessControl.findUnique({
      where: { organizationId },
      select: { enabled: true, unknownTasks: true, systemAccounts: { select: { userId: true } } },
    }),
    db.approvalPolicy.findMany({
      where: { organizationId },
      select: {
        id: true,
        catalogEntryId: true,
        target: true,
        approvalType: true,
        approverGroupId: true,
        requiredApprovals: true,
        maxDurationHours: true,
        laterStages: true,
      },
    }),
  ]);
  return {
    enabled: control?.enabled ?? false,
    unknownTasks: control?.unknownTasks ?? "DENY",
    systemAccountIds: new Set(control?.systemAccounts.map((account) => account.userId)),
    policies: new Map(
      policies.map(({ catalogEntryId, laterStages, ...policy }) => [
        catalogEntryId,
        { ...policy, stageCount: stageCountOf(laterStages) },
      ]),
    ),
    tasks: new Map(),
  };
}

export function organizationCoverage(db: Db, organizationId: string): Promise<OrganizationCoverage> {
  let entry = cache.get(organizationId);
  if (!entry) {
    entry = loadCoverage(db, organizationId);
    if (!trusted) return entry;
    cache.set(organizationId, entry);
    // A failed load must not stick.
    entry.catch(() => cache.get(organizationId) === entry && cache.delete(organizationId));
  }
  return entry;
}

/** Task names come from callers: bound what one organization's memo may hold. */
const maxMemoizedTasks = 10_000;

/** The catalog tasks a typed name means, memoized per canonical spelling. */
export function resolvedTasks(
  db: Db,
  coverage: OrganizationCoverage,
  organizationId: string,
  typed: string,
): Promise<ResolvedTask[]> {
  const key = canonicalName("TASK", typed);
  let tasks = coverage.tasks.get(key);
  if (!tasks) {
    if (coverage.tasks.size >= maxMemoizedTasks) coverage.tasks.clear();
    tasks = resolveTask(db, organizationId, typed);
    coverage.tasks.set(key, tasks);
    tasks.catch(() => coverage.tasks.delete(key));
  }
  return tasks;
}

/** The most specific policies over a task: its own, else its roles', else its role groups'. */
export function governingPolicies(coverage: OrganizationCoverage, task: ResolvedTask): GoverningPolicy[] {
  const candidates = task.covering.flatMap((entry) => {
    const policy = coverage.policies.get(entry.id);
    return policy ? [{ ...policy, depth: entry.depth }] : [];
  });
  return candidates.length ? mostSpecific(candidates).map(({ depth: _depth, ...policy }) => policy) : [];
}
