import type { Db } from "../../db/client.ts";
import { entriesCoveringTask } from "../catalog/catalog.service.ts";

/** What authorizeTask needs to know about an organization besides the grant itself. */
export interface OrganizationCoverage {
  enabled: boolean;
  systemAccountIds: Set<string>;
  /** Catalog entries a policy targets. */
  policyEntryIds: Set<string>;
  /** Per task: the catalog entries that cover it (itself, its roles, their role groups). */
  coveringEntries: Map<string, Promise<string[]>>;
}

// Per-process cache; every change of control, policies or catalog invalidates it
// after commit, here and (through Redis) on every other instance.
const cache = new Map<string, Promise<OrganizationCoverage>>();

export function invalidateCoverage(organizationId: string): void {
  cache.delete(organizationId);
}

async function loadCoverage(db: Db, organizationId: string): Promise<OrganizationCoverage> {
  const [control, policies] = await Promise.all([
    db.elevatedAccessControl.findUnique({
      where: { organizationId },
      select: { enabled: true, systemAccounts: { select: { userId: true } } },
    }),
    db.approvalPolicy.findMany({ where: { organizationId }, select: { catalogEntryId: true } }),
  ]);
  return {
    enabled: control?.enabled ?? false,
    systemAccountIds: new Set(control?.systemAccounts.map((account) => account.userId)),
    policyEntryIds: new Set(policies.map((policy) => policy.catalogEntryId)),
    coveringEntries: new Map(),
  };
}

export function organizationCoverage(db: Db, organizationId: string): Promise<OrganizationCoverage> {
  let entry = cache.get(organizationId);
  if (!entry) {
    entry = loadCoverage(db, organizationId);
    cache.set(organizationId, entry);
    // A failed load must not stick.
    entry.catch(() => cache.get(organizationId) === entry && cache.delete(organizationId));
  }
  return entry;
}

/** Task names come from callers: bound what one organization's memo may hold. */
const maxMemoizedTasks = 10_000;

export function coveringEntries(db: Db, coverage: OrganizationCoverage, organizationId: string, task: string) {
  let entries = coverage.coveringEntries.get(task);
  if (!entries) {
    if (coverage.coveringEntries.size >= maxMemoizedTasks) coverage.coveringEntries.clear();
    entries = entriesCoveringTask(db, organizationId, task);
    coverage.coveringEntries.set(task, entries);
    entries.catch(() => coverage.coveringEntries.delete(task));
  }
  return entries;
}
