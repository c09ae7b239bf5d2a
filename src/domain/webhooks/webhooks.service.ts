import { z } from "zod";
import {
  type Db,
  type Prisma,
  type Tx,
  type WebhookDelivery,
  type WebhookEndpoint,
  WebhookEventType,
} from "../../db/client.ts";
import { requireAdmin } from "../access.ts";
import type { AuditKeys } from "../audit/audit-keys.ts";
import type { ServiceContext } from "../context.ts";
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from "../errors.ts";
import { queueMail } from "../notifications/notifications.service.ts";
import { transition } from "../transition.ts";
import { entityId, optionalText, parseInput, safeString } from "../validation.ts";
import { webhookUrlProblem } from "./addresses.ts";
import { newWebhookSecret, openWebhookSecret, sealWebhookSecret } from "./secrets.ts";
import { uuidv7 } from "./uuid.ts";

/** Endpoints one organization may register: each event is recorded once per endpoint. */
export const maxWebhookEndpoints = 20;
/** How long a rotated-out secret keeps signing by default, and at most. */
const defaultGraceHours = 24;
const maxGraceHours = 7 * 24;

const hour = 3_600_000;

const eventTypes = z
  .array(z.enum(WebhookEventType, { message: "must be webhook event types" }))
  .min(1, "must name at least one event type")
  .max(Object.keys(WebhookEventType).length, "must name each event type once")
  .transform((types) => [...new Set(types)].sort());

const url = safeString().trim().min(1, "must not be empty").max(2048, "must be at most 2048 characters");

const createInput = z.object({ url, events: eventTypes, description: optionalText(500) });

const updateInput = z.object({
  id: entityId("WebhookEndpoint"),
  url: url.nullish(),
  events: eventTypes.nullish(),
  // Left out: unchanged; null or empty: cleared.
  description: safeString().trim().max(500, "must be at most 500 characters").nullish(),
  enabled: z.boolean("must be true or false").nullish(),
});

const byIdInput = z.object({ id: entityId("WebhookEndpoint") });

const rotateInput = z.object({
  id: entityId("WebhookEndpoint"),
  graceHours: z
    .number("must be a number of hours")
    .int("must be a whole number of hours")
    .min(0, "must be at least 0 hours")
    .max(maxGraceHours, `must be at most ${maxGraceHours} hours`)
    .nullish(),
});

const replayInput = z.object({ id: entityId("WebhookDelivery") });

function checkUrl(ctx: ServiceContext, value: string): string {
  const problem = webhookUrlProblem(value, ctx.webhookSettings.allowPrivateAddresses);
  if (problem) throw new ValidationError("url", problem);
  return value;
}

/** An endpoint as admins see it; the secret is only ever shown when it is made. */
export interface WebhookEndpointWithSecret {
  endpoint: WebhookEndpoint;
  /** The new secret (whsec_...): shown this once, never again. */
  secret: string;
}

async function endpointOf(tx: Tx, organizationId: string, id: string): Promise<WebhookEndpoint> {
  const endpoint = await tx.webhookEndpoint.findFirst({ where: { id, organizationId } });
  if (!endpoint) throw new NotFoundError("id", "webhook endpoint");
  return endpoint;
}

/** Registers an endpoint for the organization's events; answers its secret, once. */
export async function createWebhookEndpoint(
  ctx: ServiceContext,
  rawInput: unknown,
): Promise<WebhookEndpointWithSecret> {
  requireAdmin(ctx);
  const input = parseInput(createInput, rawInput);
  checkUrl(ctx, input.url);
  return transition(ctx, async ({ tx, audit }) => {
    const count = await tx.webhookEndpoint.count({ where: { organizationId: ctx.organizationId } });
    if (count >= maxWebhookEndpoints) {
      throw new LimitExceededError(`an organization may register at most ${maxWebhookEndpoints} webhook endpoints`);
    }
    const id = uuidv7();
    const secret = newWebhookSecret();
    const endpoint = await tx.webhookEndpoint.create({
      data: {
        id,
        organizationId: ctx.organizationId,
        url: input.url,
        description: input.description,
        eventTypes: input.events,
        secret: sealWebhookSecret(ctx.auditKeys, id, secret),
      },
    });
    audit({
      action: "New-ElevatedAccessWebhook",
      subjectId: id,
      details: { url: input.url, events: input.events, description: input.description },
    });
    return { endpoint, secret };
  });
}

/**
 * Changes an endpoint's URL, events, description or state. Enabling one clears its run
 * of failures; disabling keeps later events from being recorded for it.
 */
export async function updateWebhookEndpoint(ctx: ServiceContext, rawInput: unknown): Promise<WebhookEndpoint> {
  const actor = requireAdmin(ctx);
  const input = parseInput(updateInput, rawInput);
  if (input.url != null) checkUrl(ctx, input.url);
  return transition(ctx, async ({ tx, now, audit }) => {
    const endpoint = await endpointOf(tx, ctx.organizationId, input.id);
    const data: Prisma.WebhookEndpointUpdateInput = {};
    const changes: Record<string, unknown> = {};
    if (input.url != null && input.url !== endpoint.url) data.url = changes.url = input.url;
    if (input.events != null && input.events.join() !== [...endpoint.eventTypes].sort().join()) {
      data.eventTypes = changes.events = input.events;
    }
    if (input.description !== undefined && (input.description || null) !== endpoint.description) {
      data.description = changes.description = input.description || null;
    }
    if (input.enabled != null && input.enabled !== endpoint.enabled) {
      changes.enabled = input.enabled;
      Object.assign(
        data,
        input.enabled
          ? { enabled: true, disabledAt: null, disabledReason: null, consecutiveFailures: 0 }
          : { enabled: false, disabledAt: now, disabledReason: `disabled by ${actor.email}` },
      );
    }
    if (Object.keys(changes).length === 0) return endpoint;
    audit({ action: "Set-ElevatedAccessWebhook", subjectId: endpoint.id, details: changes });
    return tx.webhookEndpoint.update({ where: { id: endpoint.id }, data });
  });
}

/**
 * A new signing secret, answered once. The old one keeps signing beside it (a second
 * signature in webhook-signature) for `graceHours`, so receivers can switch over
 * without losing a message.
 */
export async function rotateWebhookSecret(ctx: ServiceContext, rawInput: unknown): Promise<WebhookEndpointWithSecret> {
  requireAdmin(ctx);
  const input = parseInput(rotateInput, rawInput);
  const graceHours = input.graceHours ?? defaultGraceHours;
  return transition(ctx, async ({ tx, now, audit }) => {
    const current = await endpointOf(tx, ctx.organizationId, input.id);
    const secret = newWebhookSecret();
    const endpoint = await tx.webhookEndpoint.update({
      where: { id: current.id },
      data: {
        secret: sealWebhookSecret(ctx.auditKeys, current.id, secret),
        previousSecret: graceHours > 0 ? current.secret : null,
        previousSecretExpiresAt: graceHours > 0 ? new Date(now.getTime() + graceHours * hour) : null,
      },
    });
    audit({ action: "Reset-ElevatedAccessWebhookSecret", subjectId: current.id, details: { graceHours } });
    return { endpoint, secret };
  });
}

/** Removes an endpoint with its deliveries; jobs still queued for it find nothing to send. */
export async function deleteWebhookEndpoint(ctx: ServiceContext, rawInput: unknown): Promise<WebhookEndpoint> {
  requireAdmin(ctx);
  const input = parseInput(byIdInput, rawInput);
  return transition(ctx, async ({ tx, audit }) => {
    const endpoint = await endpointOf(tx, ctx.organizationId, input.id);
    await tx.webhookEndpoint.delete({ where: { id: endpoint.id } });
    audit({ action: "Remove-ElevatedAccessWebhook", subjectId: endpoint.id, details: { url: endpoint.url } });
    return endpoint;
  });
}

/**
 * Sends a delivery again, with the same webhook-id and body (receivers deduplicate on
 * the id), as a job of its own with a full set of retries.
 */
export async function replayWebhookDelivery(ctx: ServiceContext, rawInput: unknown): Promise<WebhookDelivery> {
  requireAdmin(ctx);
  const input = parseInput(replayInput, rawInput);
  return transition(ctx, async ({ tx, audit, effect }) => {
    const delivery = await tx.webhookDelivery.findFirst({
      where: { id: input.id, organizationId: ctx.organizationId },
      include: { endpoint: { select: { enabled: true } } },
    });
    if (!delivery) throw new NotFoundError("id", "webhook delivery");
    if (delivery.status === "PENDING") throw new ConflictError("id: this delivery is still being attempted");
    if (!delivery.endpoint.enabled) throw new ConflictError("id: its endpoint is disabled; enable it first");
    const replay = delivery.replays + 1;
    const { count } = await tx.webhookDelivery.updateMany({
      where: { id: delivery.id, status: delivery.status, replays: delivery.replays },
      data: { status: "PENDING", replays: replay },
    });
    if (count === 0) throw new ConflictError("id: this delivery was replayed at the same moment");
    audit({
      action: "Send-ElevatedAccessWebhookDelivery",
      subjectId: delivery.id,
      details: { endpointId: delivery.endpointId, eventType: delivery.eventType, replay },
    });
    effect({ kind: "webhooksQueued", deliveries: [{ deliveryId: delivery.id, replay }] });
    return tx.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } });
  });
}

/** A delivery ready for an attempt, with the endpoint to send it to. */
export type DueWebhookDelivery = WebhookDelivery & { endpoint: WebhookEndpoint };

/**
 * The delivery a job is about, when it still waits for this round (`replay`) of attempts.
 * One whose endpoint was disabled meanwhile fails without an attempt (an admin may replay it).
 */
export async function dueWebhookDelivery(
  db: Db,
  deliveryId: string,
  replay: number,
): Promise<DueWebhookDelivery | null> {
  const delivery = await db.webhookDelivery.findUnique({ where: { id: deliveryId }, include: { endpoint: true } });
  if (delivery?.status !== "PENDING" || delivery.replays !== replay) return null;
  if (!delivery.endpoint.enabled) {
    await db.webhookDelivery.updateMany({
      where: { id: deliveryId, status: "PENDING", replays: replay },
      data: { status: "FAILED", lastError: "not sent: the endpoint is disabled" },
    });
    return null;
  }
  return delivery;
}

/** The secrets to sign with now: the current one, and the previous one during its grace period. */
export function signingSecrets(keys: Pick<AuditKeys, "macKey">, endpoint: WebhookEndpoint, now: Date): string[] {
  const secrets = [openWebhookSecret(keys, endpoint.id, endpoint.secret)];
  if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
    secrets.push(openWebhookSecret(keys, endpoint.id, endpoint.previousSecret));
  }
  return secrets;
}

export interface WebhookAttemptOutcome {
  deliveryId: string;
  replay: number;
  at: Date;
  durationMs: number;
  /** The HTTP status, when the endpoint answered. */
  responseStatus: number | null;
  /** Null when the endpoint took it (2xx). */
  error: string | null;
  /** No attempt follows this one: the retries ran out, or the address was refused. */
  final: boolean;
}

/**
 * Records an attempt. A success clears the endpoint's run of failures; a delivery that
 * fails for good adds to it, and the run reaching WEBHOOK_FAILURES_TO_DISABLE disables
 * the endpoint, audited, with a mail to the organization's admins.
 */
export async function recordWebhookAttempt(
  ctx: ServiceContext,
  outcome: WebhookAttemptOutcome,
): Promise<"delivered" | "retrying" | "failed" | "disabled" | "stale"> {
  return transition(ctx, async (scope) => {
    const { tx, now, audit } = scope;
    const ok = outcome.error === null;
    const { count } = await tx.webhookDelivery.updateMany({
      where: { id: outcome.deliveryId, status: "PENDING", replays: outcome.replay },
      data: {
        attempts: { increment: 1 },
        responseStatus: outcome.responseStatus,
        lastError: outcome.error?.slice(0, 1000) ?? null,
        lastAttemptAt: outcome.at,
        ...(ok ? { status: "SUCCEEDED", deliveredAt: outcome.at } : outcome.final ? { status: "FAILED" } : {}),
      },
    });
    if (count === 0) return "stale";
    const delivery = await tx.webhookDelivery.findUniqueOrThrow({
      where: { id: outcome.deliveryId },
      select: { endpointId: true },
    });
    await tx.webhookDeliveryAttempt.create({
      data: {
        deliveryId: outcome.deliveryId,
        at: outcome.at,
        responseStatus: outcome.responseStatus,
        error: outcome.error?.slice(0, 1000) ?? null,
        durationMs: Math.round(outcome.durationMs),
      },
    });
    if (ok) {
      await tx.webhookEndpoint.update({ where: { id: delivery.endpointId }, data: { consecutiveFailures: 0 } });
      return "delivered";
    }
    if (!outcome.final) return "retrying";
    const endpoint = await tx.webhookEndpoint.update({
      where: { id: delivery.endpointId },
      data: { consecutiveFailures: { increment: 1 } },
    });
    if (!endpoint.enabled || endpoint.consecutiveFailures < ctx.webhookSettings.failuresToDisable) return "failed";
    await tx.webhookEndpoint.update({
      where: { id: endpoint.id },
      data: {
        enabled: false,
        disabledAt: now,
        disabledReason: `${endpoint.consecutiveFailures} deliveries in a row failed; the last: ${outcome.error}`.slice(
          0,
          1000,
        ),
      },
    });
    audit({
      action: "Disable-ElevatedAccessWebhook",
      subjectId: endpoint.id,
      details: { url: endpoint.url, consecutiveFailures: endpoint.consecutiveFailures, lastError: outcome.error },
    });
    const admins = await tx.user.findMany({
      where: { organizationId: endpoint.organizationId, roles: { has: "ADMIN" }, kind: { not: "SERVICE" } },
      select: { id: true },
    });
    await queueMail(
      scope,
      endpoint.organizationId,
      admins.map((admin) => ({
        template: "webhook-disabled" as const,
        recipientId: admin.id,
        webhookEndpointId: endpoint.id,
        occasion: String(now.getTime()),
      })),
    );
    return "disabled";
  });
}

/**
 * PENDING deliveries in batches: the reconciler re-adds their jobs when Redis lost them.
 * Fresh rows are left to the transition that recorded them.
 */
export async function* pendingWebhookDeliveries(
  db: Db,
  batchSize: number,
  olderThanMs = 10_000,
): AsyncGenerator<{ id: string; replays: number; correlationId: string | null }[]> {
  const before = new Date(Date.now() - olderThanMs);
  let cursor: string | undefined;
  for (;;) {
    const rows = await db.webhookDelivery.findMany({
      where: { status: "PENDING", createdAt: { lt: before }, ...(cursor ? { id: { gt: cursor } } : {}) },
      orderBy: { id: "asc" },
      take: batchSize,
      select: { id: true, replays: true, correlationId: true },
    });
    if (rows.length === 0) return;
    yield rows;
    cursor = rows.at(-1)?.id;
    if (rows.length < batchSize) return;
  }
}
