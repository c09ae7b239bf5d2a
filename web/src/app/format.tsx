import { Badge } from "@mantine/core";
import { useEffect, useState } from "react";
import type { AccessRequestStatus, AuthorizationStatus, PolicyScope, PolicyType } from "../gql/graphql.ts";

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatDateTime(value: string | null | undefined): string {
  return value ? dateTime.format(new Date(value)) : "";
}

/** "3 h 12 min left" until `endsAt`, as of `now`. */
export function timeLeft(endsAt: string, now: number): string {
  const minutes = Math.max(0, Math.round((new Date(endsAt).getTime() - now) / 60_000));
  if (minutes === 0) return "ending now";
  const hours = Math.floor(minutes / 60);
  return `${hours ? `${hours} h ` : ""}${minutes % 60} min left`;
}

/** The current time, refreshed every half minute, for "time left" displays. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export const policyTypeLabels: Record<PolicyType, string> = { TASK: "Task", ROLE: "Role", ROLE_GROUP: "Role Group" };
export const scopeLabels: Record<PolicyScope, string> = { EXCHANGE: "Exchange", OFFICE365: "Office 365" };

export const statusLabels: Record<AccessRequestStatus | AuthorizationStatus, string> = {
  PENDING: "Pending",
  APPROVED: "Approved",
  DENIED: "Denied",
  EXPIRED: "Expired",
  CANCELED: "Canceled",
  SCHEDULED: "Scheduled",
  ACTIVE: "Active",
  ENDED: "Ended",
  REVOKED: "Revoked",
};

// Shades dark (or light) enough for WCAG AA contrast with the badge text autoContrast picks.
const statusColors: Record<AccessRequestStatus | AuthorizationStatus, string> = {
  PENDING: "yellow.3",
  APPROVED: "teal.9",
  DENIED: "red.9",
  EXPIRED: "gray.7",
  CANCELED: "gray.7",
  SCHEDULED: "blue.9",
  ACTIVE: "teal.9",
  ENDED: "gray.7",
  REVOKED: "red.9",
};

export function StatusBadge({ status }: { status: AccessRequestStatus | AuthorizationStatus }) {
  return (
    // max-content: a narrow table column must not cut the label to "SCHEDUL…".
    <Badge color={statusColors[status]} autoContrast miw="max-content">
      {statusLabels[status]}
    </Badge>
  );
}
