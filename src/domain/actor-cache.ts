import type { Actor } from "./context.ts";

// Per-process cache of the actor each bearer token resolved to, so a request does not
// look its caller up again. Every change of a user, of approver-group membership or
// of an organization drops the organization's entries after commit, here (transition.ts)
// and through Redis on every other instance (events/event-bus.ts); a lost connection
// to the other instances drops them all. The grants authorizeTask counts and the
// execution log are never cached: they are read and written per call.

interface Entry {
  actor: Actor;
  /** The token's exp in ms: an entry never outlives its token. */
  expiresAt: number;
}

const entries = new Map<string, Entry>();
/** Bumped by every invalidation: a lookup that started before one never stores what it read. */
let generation = 0;
const maxEntries = 10_000;
/** While invalidations cannot arrive (the event connection is down), nothing is kept. */
let trusted = true;

export function invalidateActors(organizationId: string): void {
  generation++;
  for (const [token, entry] of entries) if (entry.actor.organizationId === organizationId) entries.delete(token);
}

/**
 * After a lost connection to the other instances, any of their invalidations may have
 * been missed: drops everything, and keeps nothing new until `keep` is true again.
 */
export function invalidateAllActors(keep = true): void {
  generation++;
  entries.clear();
  trusted = keep;
}

/**
 * The actor a verified token names: from the cache while the token is valid and
 * nothing in its organization changed since, else from `resolve` (the database).
 */
export async function cachedActor(
  token: string,
  tokenExpiresAt: Date,
  resolve: () => Promise<Actor>,
  now = Date.now(),
): Promise<Actor> {
  const known = entries.get(token);
  if (known && known.expiresAt > now) return known.actor;
  if (known) entries.delete(token);
  const started = generation;
  const actor = await resolve();
  if (trusted && generation === started) {
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
    entries.set(token, { actor, expiresAt: tokenExpiresAt.getTime() });
  }
  return actor;
}
