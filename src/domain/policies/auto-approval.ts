import { z } from "zod";
import type { Tx } from "../../db/client.ts";
import { findApproverGroup } from "../approver-groups/approver-groups.service.ts";
import { maxGrantHours } from "../catalog/catalog.service.ts";
import { ValidationError } from "../errors.ts";
import { nonEmptyText, wholeHours } from "../validation.ts";

// Conditional auto-approval: a MANUAL policy may approve at once when every condition
// it names holds, and falls back to its approvers otherwise. Conditions are data (a
// JSON column validated here, both on the way in and on the way out), never code.

export const weekdays = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"] as const;
export type Weekday = (typeof weekdays)[number];

const clockTime = z
  .string("must be a time like 08:00")
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time of day as HH:MM (00:00 to 23:59)");

const weeklyWindow = z
  .object({
    days: z
      .array(z.enum(weekdays, "must be MON, TUE, WED, THU, FRI, SAT or SUN"))
      .min(1, "must name at least one day")
      .transform((days) => weekdays.filter((day) => days.includes(day))),
    start: clockTime,
    end: clockTime,
  })
  .refine((window) => window.start < window.end, { message: "must start before it ends", path: ["end"] });

/** What an admin sends: the group by name, email or ID. */
export const autoApprovalInput = z
  .object({
    requesterInGroup: nonEmptyText(254).nullish(),
    maxDurationHours: wholeHours(maxGrantHours).nullish(),
    window: weeklyWindow.nullish(),
    /** The request carries a ticket reference (checked against the policy's ticket rules first). */
    ticketGiven: z.boolean("must be true or false").nullish(),
  })
  .refine((conditions) => Object.values(conditions).some((value) => value != null && value !== false), {
    message: "must name at least one condition (requesterInGroup, maxDurationHours, window or ticketGiven)",
  });

export type AutoApprovalInput = z.infer<typeof autoApprovalInput>;

/** What a policy stores: the group by its ID, so a renamed group keeps its policies. */
export const autoApprovalConditions = z.object({
  requesterInGroupId: z.uuid().nullable(),
  maxDurationHours: z.number().int().nullable(),
  window: weeklyWindow.nullable(),
  // Absent in conditions stored before the ticket condition existed: not asked for.
  ticketGiven: z.boolean().default(false),
});

export type AutoApprovalConditions = z.infer<typeof autoApprovalConditions>;

/** A stored value read back; anything unreadable counts as no conditions (the manual path), never as approval. */
export function readConditions(value: unknown): AutoApprovalConditions | null {
  if (value === null || value === undefined) return null;
  const parsed = autoApprovalConditions.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** Whether an IANA time zone name is one this runtime knows. */
export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export const timeZoneName = nonEmptyText(64).refine(isTimeZone, "must be an IANA time zone such as Europe/Paris");

/** The weekday and HH:MM of an instant in a time zone. */
export function localTime(at: Date, timeZone: string): { day: Weekday; time: string } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const part = (type: string) => parts.find((candidate) => candidate.type === type)?.value ?? "";
  return { day: part("weekday").toUpperCase() as Weekday, time: `${part("hour")}:${part("minute")}` };
}

export type AutoApprovalCondition = "requesterInGroup" | "maxDurationHours" | "window" | "ticketGiven";

export interface RequestFacts {
  /** The approver groups the requester is a member of. */
  requesterGroupIds: readonly string[];
  durationHours: number;
  /** The request's ticket reference, if it gave one. */
  ticket: string | null;
  now: Date;
  timeZone: string;
}

/** The conditions a request does not meet; empty when it is approved at once. */
export function unmetConditions(conditions: AutoApprovalConditions, facts: RequestFacts): AutoApprovalCondition[] {
  const unmet: AutoApprovalCondition[] = [];
  if (conditions.requesterInGroupId !== null && !facts.requesterGroupIds.includes(conditions.requesterInGroupId)) {
    unmet.push("requesterInGroup");
  }
  if (conditions.maxDurationHours !== null && facts.durationHours > conditions.maxDurationHours) {
    unmet.push("maxDurationHours");
  }
  if (conditions.ticketGiven && !facts.ticket) unmet.push("ticketGiven");
  if (conditions.window !== null) {
    const { day, time } = localTime(facts.now, facts.timeZone);
    const { days, start, end } = conditions.window;
    if (!days.includes(day) || time < start || time >= end) unmet.push("window");
  }
  return unmet;
}

/** Conditions only refine a manual policy: an AUTO policy approves everything anyway. */
export function assertConditionsFit(approvalType: "MANUAL" | "AUTO", conditions: unknown): void {
  if (conditions != null && approvalType !== "MANUAL") {
    throw new ValidationError(
      "autoApproveWhen",
      "applies to MANUAL policies only (AUTO policies approve every request)",
    );
  }
}

/** The stored form of what an admin sent: the group named by name, email or ID becomes its ID. */
export async function storedConditions(
  tx: Tx,
  organizationId: string,
  input: AutoApprovalInput,
): Promise<AutoApprovalConditions> {
  const group = input.requesterInGroup
    ? await findApproverGroup(tx, organizationId, input.requesterInGroup, "autoApproveWhen.requesterInGroup")
    : null;
  return {
    requesterInGroupId: group?.id ?? null,
    maxDurationHours: input.maxDurationHours ?? null,
    window: input.window ?? null,
    ticketGiven: input.ticketGiven ?? false,
  };
}

/** Conditions as the audit log and the API show them: the group by its address. */
export async function describeConditions(tx: Tx, conditions: AutoApprovalConditions | null) {
  if (!conditions) return null;
  const group = conditions.requesterInGroupId
    ? await tx.approverGroup.findUnique({ where: { id: conditions.requesterInGroupId }, select: { email: true } })
    : null;
  return {
    requesterInGroup: conditions.requesterInGroupId ? (group?.email ?? conditions.requesterInGroupId) : null,
    maxDurationHours: conditions.maxDurationHours,
    window: conditions.window,
    ticketGiven: conditions.ticketGiven,
  };
}

/**
 * The conditions of a policy a new request does not meet, or null when the policy has
 * none (its own approval type decides). Reads the requester's groups and the
 * organization's time zone inside the request's transaction.
 */
export async function unmetConditionsFor(
  tx: Tx,
  policy: { approvalType: "MANUAL" | "AUTO"; autoApproveWhen: unknown },
  request: { organizationId: string; requesterId: string; durationHours: number; ticket: string | null; now: Date },
): Promise<AutoApprovalCondition[] | null> {
  const conditions = policy.approvalType === "MANUAL" ? readConditions(policy.autoApproveWhen) : null;
  if (!conditions) return null;
  const [memberships, control] = await Promise.all([
    tx.approverGroupMember.findMany({ where: { userId: request.requesterId }, select: { groupId: true } }),
    tx.elevatedAccessControl.findUnique({
      where: { organizationId: request.organizationId },
      select: { timeZone: true },
    }),
  ]);
  return unmetConditions(conditions, {
    requesterGroupIds: memberships.map((membership) => membership.groupId),
    durationHours: request.durationHours,
    ticket: request.ticket,
    now: request.now,
    timeZone: control?.timeZone ?? "UTC",
  });
}
