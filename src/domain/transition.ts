import type { Tx } from "../db/client.ts";
import { invalidateActors } from "./actor-cache.ts";
import { type AuditEntry, appendAudit } from "./audit/audit.service.ts";
import { invalidateCoverage } from "./authorizations/coverage-cache.ts";
import type { Effect, ServiceContext } from "./context.ts";
import { recordWebhookDeliveries } from "./webhooks/fan-out.ts";

export interface TransitionScope {
  tx: Tx;
  now: Date;
  /** The request id behind this change, recorded on the mail and webhooks it queues. */
  correlationId: string | null;
  audit(entry: AuditEntry): void;
  effect(effect: Effect): void;
}

/**
 * Runs a state change in one transaction with its audit events and the webhook
 * deliveries of its request events; the effects it records (jobs, events, mail) are
 * dispatched only after commit.
 */
export async function transition<T>(ctx: ServiceContext, work: (scope: TransitionScope) => Promise<T>): Promise<T> {
  const effects: Effect[] = [];
  const result = await ctx.db.$transaction(async (tx) => {
    const now = ctx.clock();
    const entries: AuditEntry[] = [];
    const value = await work({
      tx,
      now,
      correlationId: ctx.correlationId,
      audit: (entry) => entries.push(entry),
      effect: (effect) => effects.push(effect),
    });
    const requestEvents = effects.filter((effect) => effect.kind === "requestEvent");
    const deliveries = await recordWebhookDeliveries(
      { tx, correlationId: ctx.correlationId },
      ctx.organizationId,
      requestEvents,
    );
    if (deliveries.length > 0) effects.push({ kind: "webhooksQueued", deliveries });
    await appendAudit(tx, ctx.auditKeys, ctx.organizationId, ctx.actor?.id ?? null, now, entries);
    return value;
  });
  for (const effect of effects) {
    if (effect.kind === "coverageChanged") invalidateCoverage(effect.organizationId);
    if (effect.kind === "actorsChanged") invalidateActors(effect.organizationId);
  }
  await ctx.effects.dispatch(effects, { correlationId: ctx.correlationId });
  return result;
}
