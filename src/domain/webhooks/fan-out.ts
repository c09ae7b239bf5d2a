import type { Prisma, Tx } from "../../db/client.ts";
import type { Effect } from "../context.ts";
import type { TransitionScope } from "../transition.ts";
import { webhookEventOf, webhookTypeName } from "./events.ts";

type RequestEvent = Extract<Effect, { kind: "requestEvent" }>;

/** A request as a webhook tells it: what it was at the moment of the event. */
async function requestSnapshots(tx: Tx, requestIds: string[]) {
  const requests = await tx.accessRequest.findMany({
    where: { id: { in: requestIds } },
    include: {
      requester: { select: { email: true, displayName: true } },
      approverGroup: { select: { email: true } },
      decisions: { include: { approver: { select: { email: true } } }, orderBy: { decidedAt: "asc" } },
      authorization: true,
    },
  });
  return new Map(
    requests.map((request) => [
      request.id,
      {
        request: {
          id: request.id,
          kind: request.kind,
          status: request.status,
          type: request.type,
          scope: request.scope,
          target: request.target,
          reason: request.reason,
          durationHours: request.durationHours,
          approvalType: request.approvalType,
          requiredApprovals: request.requiredApprovals,
          approverGroup: request.approverGroup.email,
          requester: { email: request.requester.email, displayName: request.requester.displayName },
          createdAt: request.createdAt,
          expiresAt: request.expiresAt,
          decidedAt: request.decidedAt,
          decisions: request.decisions.map((decision) => ({
            approver: decision.approver.email,
            approved: decision.approved,
            comment: decision.comment,
            channel: decision.channel,
            decidedAt: decision.decidedAt,
          })),
        },
        authorization: request.authorization && {
          id: request.authorization.id,
          status: request.authorization.status,
          startsAt: request.authorization.startsAt,
          endsAt: request.authorization.endsAt,
          endedAt: request.authorization.endedAt,
          revokedAt: request.authorization.revokedAt,
        },
      },
    ]),
  );
}

/**
 * Records a delivery per subscribed, enabled endpoint for each request event of a
 * transition, in its transaction: an event is recorded exactly when the change commits,
 * so a crash after commit loses no webhook (the reconciler re-adds lost jobs).
 * Returns what to enqueue after commit.
 */
export async function recordWebhookDeliveries(
  { tx, correlationId }: Pick<TransitionScope, "tx" | "correlationId">,
  organizationId: string,
  events: RequestEvent[],
): Promise<{ deliveryId: string; replay: number }[]> {
  if (events.length === 0) return [];
  const types = [...new Set(events.map((event) => webhookEventOf[event.type]))];
  const endpoints = await tx.webhookEndpoint.findMany({
    where: { organizationId, enabled: true, eventTypes: { hasSome: types } },
    select: { id: true, eventTypes: true },
  });
  if (endpoints.length === 0) return [];
  const snapshots = await requestSnapshots(tx, [...new Set(events.map((event) => event.requestId))]);
  const rows: Prisma.WebhookDeliveryCreateManyInput[] = [];
  for (const event of events) {
    const type = webhookEventOf[event.type];
    const payload = JSON.parse(
      JSON.stringify({
        type: webhookTypeName(type),
        timestamp: event.at,
        data: { organizationId, ...snapshots.get(event.requestId) },
      }),
    ) as Prisma.InputJsonObject;
    for (const endpoint of endpoints) {
      if (!endpoint.eventTypes.includes(type)) continue;
      rows.push({ organizationId, endpointId: endpoint.id, eventType: type, payload, correlationId });
    }
  }
  const created = await tx.webhookDelivery.createManyAndReturn({ data: rows, select: { id: true } });
  return created.map(({ id }) => ({ deliveryId: id, replay: 0 }));
}
