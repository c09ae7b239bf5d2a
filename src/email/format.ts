export type RequestType = "TASK" | "ROLE" | "ROLE_GROUP";
export type RequestScope = "EXCHANGE" | "OFFICE365";

const requestTypeLabels: Record<RequestType, string> = {
  TASK: "Task",
  ROLE: "Role",
  ROLE_GROUP: "Role group",
};

const requestScopeLabels: Record<RequestScope, string> = {
  EXCHANGE: "Exchange",
  OFFICE365: "Office 365",
};

export function requestTypeLabel(type: RequestType): string {
  return requestTypeLabels[type];
}

export function requestScopeLabel(scope: RequestScope): string {
  return requestScopeLabels[scope];
}

export function formatDuration(hours: number): string {
  return hours === 1 ? "1 hour" : `${hours} hours`;
}

/** "2026-11-26 14:00 UTC": recipients sit in many time zones, so one unambiguous zone is shown. */
export function formatUtc(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

const htmlEscapes: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Safe both in element text and in quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => htmlEscapes[char] ?? char);
}
