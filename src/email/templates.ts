import { type MailTemplate, mailTemplates } from "../domain/notifications/notifications.service.ts";
import {
  formatDuration,
  formatUtc,
  type RequestScope,
  type RequestType,
  requestScopeLabel,
  requestTypeLabel,
} from "./format.ts";

/** Fills the shared layout: header, footer and links of every email. */
export interface BrandingVars {
  orgName: string;
  /** Absolute http(s) base URL of this Elevate server. */
  publicUrl: string;
}

export interface RequestedAccessVars {
  target: string;
  type: RequestType;
  scope: RequestScope;
  /** The ticket the request refers to, when it carries one. */
  ticket?: string | null | undefined;
}

export interface ApprovalNeededVars extends BrandingVars, RequestedAccessVars {
  /** Set for a request to extend a grant: when that grant ends now. */
  extendsAccessEndingAt?: Date | undefined;
  /** Set for a Customer Lockbox request: the vendor asking for access to the organization's content. */
  lockboxVendor?: string | null | undefined;
  approverName: string;
  requesterName: string;
  requesterEmail: string;
  reason: string;
  durationHours: number;
  expiresAt: Date;
  approveUrl: string;
  denyUrl: string;
  requestUrl: string;
  /** Approvers must decide signed in with multi-factor authentication: the buttons open the request to sign in. */
  stepUp?: boolean;
}

export interface RequestApprovedVars extends BrandingVars, RequestedAccessVars {
  requesterName: string;
  startsAt: Date;
  endsAt: Date;
  /** The hours the request asked for. */
  requestedHours: number;
  /** The hours granted: fewer than asked when an approver shortened it. */
  grantedHours: number;
  requestUrl: string;
}

export interface RequestDeniedVars extends BrandingVars, RequestedAccessVars {
  requesterName: string;
  deniedByName: string;
  comment?: string | undefined;
  requestUrl: string;
}

export interface RequestExpiredVars extends BrandingVars, RequestedAccessVars {
  requesterName: string;
  expiredAt: Date;
  requestUrl: string;
}

export interface AccessRevokedVars extends BrandingVars, RequestedAccessVars {
  requesterName: string;
  revokedByName: string;
  revokedAt: Date;
  comment?: string | undefined;
  requestUrl: string;
}

export interface AccessEndedVars extends BrandingVars, RequestedAccessVars {
  requesterName: string;
  endedAt: Date;
  /** Set when the grantee ended it before its end (endAccessAuthorization), with their reason if they gave one. */
  endedEarly?: { reason?: string | undefined } | undefined;
  requestUrl: string;
}

export interface AccessExtendedVars extends BrandingVars, RequestedAccessVars {
  requesterName: string;
  /** The hours added. */
  durationHours: number;
  endsAt: Date;
  requestUrl: string;
}

export interface AccessExpiringVars extends BrandingVars, RequestedAccessVars {
  requesterName: string;
  /** The request identity GUID, for the extension command. */
  requestId: string;
  endsAt: Date;
  requestUrl: string;
}

export interface WebhookDisabledVars extends BrandingVars {
  adminName: string;
  url: string;
  failures: number;
  disabledAt: Date;
  lastError: string;
}

/** One set of values per notification of the domain's list: a missing or extra one does not compile. */
interface TemplateVarsByName extends Record<MailTemplate, BrandingVars> {
  "approval-needed": ApprovalNeededVars;
  "approval-reminder": ApprovalNeededVars;
  "approval-escalated": ApprovalNeededVars;
  "request-approved": RequestApprovedVars;
  "request-denied": RequestDeniedVars;
  "request-expired": RequestExpiredVars;
  "access-revoked": AccessRevokedVars;
  "access-ended": AccessEndedVars;
  "access-extended": AccessExtendedVars;
  "access-expiring": AccessExpiringVars;
  "webhook-disabled": WebhookDisabledVars;
}

export type TemplateName = MailTemplate;
export type TemplateVars<N extends TemplateName> = TemplateVarsByName[N];

export interface TemplateDefinition<V, P extends string = string> {
  /** MJML body fragment in `emails/`, wrapped in `emails/layout.mjml` before compiling. */
  mjml: string;
  /**
   * Every `{{name}}` the fragment uses, besides the layout's; checked against the compiled HTML at build
   * time so a typo fails the build rather than a send.
   */
  placeholders: readonly P[];
  subject(vars: V): string;
  /** Display strings for the placeholders; the renderer escapes them, so they must stay unescaped here. */
  values(vars: V): Record<P, string>;
  text(vars: V): string;
}

/** Placeholders of `emails/layout.mjml`; the renderer fills them for every template. */
export const layoutPlaceholders = ["subject", "orgName", "publicUrl"] as const;

function defineTemplate<V, const P extends string>(definition: TemplateDefinition<V, P>): TemplateDefinition<V> {
  return definition;
}

function accessValues(vars: RequestedAccessVars) {
  return {
    target: vars.target,
    type: requestTypeLabel(vars.type),
    scope: requestScopeLabel(vars.scope),
  };
}

/**
 * Text someone typed, quoted line by line, so no line of it can pass for one of the
 * message's own (a reason with "Approve: https://..." on a line of its own).
 */
function quoted(value: string): string {
  return value
    .trim()
    .split(/\r?\n/)
    .map((line) => `> ${line}`)
    .join("\n");
}

function commentValue(comment: string | undefined): string {
  return comment?.trim() || "No comment was given.";
}

/** The plain-text part's comment: quoted when someone wrote one. */
function commentText(comment: string | undefined): string {
  return comment?.trim() ? quoted(comment) : commentValue(comment);
}

/** Aligned "Label: value" line; continuation lines of multi-line values stay under the value. */
function field(label: string, value: string): string {
  const head = `${label}:`.padEnd(11);
  return (
    head +
    value
      .trim()
      .split(/\r?\n/)
      .join(`\n${" ".repeat(head.length)}`)
  );
}

function accessFields(vars: RequestedAccessVars): string[] {
  return [
    field("Target", vars.target),
    field("Type", requestTypeLabel(vars.type)),
    field("Scope", requestScopeLabel(vars.scope)),
    ...(vars.ticket ? [field("Ticket", vars.ticket)] : []),
  ];
}

function ticketValue(vars: RequestedAccessVars): string {
  return vars.ticket || "None";
}

/** The plain-text counterpart of the HTML layout. */
function textLayout(vars: BrandingVars, blocks: readonly string[]): string {
  const footer = `--\nElevate privileged access for ${vars.orgName}\n${vars.publicUrl}`;
  return `${[...blocks, footer].join("\n\n")}\n`;
}

function requestKind(vars: ApprovalNeededVars): string {
  if (vars.lockboxVendor) return `Customer Lockbox: ${vars.lockboxVendor} asks for access to your content`;
  return vars.extendsAccessEndingAt
    ? `Extension by ${formatDuration(vars.durationHours)} of access that now ends at ${formatUtc(vars.extendsAccessEndingAt)}`
    : "New access";
}

function decisionNote(vars: ApprovalNeededVars): string {
  return vars.stepUp
    ? "This request needs approvers signed in with multi-factor authentication: each button opens the request, where you sign in before you decide."
    : "Each button opens a confirmation page; nothing is decided until you confirm there.";
}

const approvalNeeded = defineTemplate({
  mjml: "approval-needed.mjml",
  placeholders: [
    "requestKind",
    "approverName",
    "requesterName",
    "requesterEmail",
    "target",
    "type",
    "scope",
    "reason",
    "duration",
    "ticket",
    "expiresAt",
    "approveUrl",
    "denyUrl",
    "requestUrl",
    "decisionNote",
  ],
  subject: (vars: ApprovalNeededVars) =>
    vars.lockboxVendor
      ? `Customer Lockbox approval needed: ${vars.lockboxVendor} requests ${vars.target}`
      : vars.extendsAccessEndingAt
        ? `Approval needed: ${vars.requesterName} asks to extend ${vars.target}`
        : `Approval needed: ${vars.requesterName} requests ${vars.target}`,
  values: (vars) => ({
    requestKind: requestKind(vars),
    approverName: vars.approverName,
    requesterName: vars.requesterName,
    requesterEmail: vars.requesterEmail,
    ...accessValues(vars),
    reason: vars.reason,
    duration: formatDuration(vars.durationHours),
    ticket: ticketValue(vars),
    expiresAt: formatUtc(vars.expiresAt),
    approveUrl: vars.approveUrl,
    denyUrl: vars.denyUrl,
    requestUrl: vars.requestUrl,
    decisionNote: decisionNote(vars),
  }),
  text: (vars) =>
    textLayout(vars, [
      `Hi ${vars.approverName},`,
      `${vars.requesterName} (${vars.requesterEmail}) asks for privileged access in ${vars.orgName}.`,
      [
        field("Request", requestKind(vars)),
        field("Requester", `${vars.requesterName} <${vars.requesterEmail}>`),
        ...accessFields(vars),
        field("Duration", formatDuration(vars.durationHours)),
        field("Reason", quoted(vars.reason)),
      ].join("\n"),
      `Decide before ${formatUtc(vars.expiresAt)}; the request expires after that.`,
      `Approve: ${vars.approveUrl}\nDeny:    ${vars.denyUrl}`,
      decisionNote(vars),
      `View the request: ${vars.requestUrl}`,
    ]),
});

function durationNote(vars: RequestApprovedVars): string {
  return vars.grantedHours < vars.requestedHours
    ? `You asked for ${formatDuration(vars.requestedHours)}; the approver shortened it to ${formatDuration(vars.grantedHours)}.`
    : `Approved for the ${formatDuration(vars.grantedHours)} you asked for.`;
}

/** The same message with fresh links, to approvers who have not decided at a reminder point. */
const approvalReminder: TemplateDefinition<ApprovalNeededVars> = {
  ...approvalNeeded,
  subject: (vars) => `Reminder: ${approvalNeeded.subject(vars)}`,
  text: (vars) => `Reminder: this request still waits for your decision.\n\n${approvalNeeded.text(vars)}`,
};

/** The same message with links of their own, to an escalation group's members when a request escalated. */
const approvalEscalated: TemplateDefinition<ApprovalNeededVars> = {
  ...approvalNeeded,
  subject: (vars) => `Escalated: ${approvalNeeded.subject(vars)}`,
  text: (vars) =>
    `Escalated: this request waited without a decision, so its policy's escalation group, which you are in, may now decide it.\n\n${approvalNeeded.text(vars)}`,
};

const requestApproved = defineTemplate({
  mjml: "request-approved.mjml",
  placeholders: [
    "requesterName",
    "target",
    "type",
    "scope",
    "ticket",
    "startsAt",
    "endsAt",
    "durationNote",
    "requestUrl",
  ],
  subject: (vars: RequestApprovedVars) =>
    vars.grantedHours < vars.requestedHours
      ? `Approved for ${formatDuration(vars.grantedHours)}: your access to ${vars.target}`
      : `Approved: your access to ${vars.target}`,
  values: (vars) => ({
    requesterName: vars.requesterName,
    ...accessValues(vars),
    ticket: ticketValue(vars),
    startsAt: formatUtc(vars.startsAt),
    endsAt: formatUtc(vars.endsAt),
    durationNote: durationNote(vars),
    requestUrl: vars.requestUrl,
  }),
  text: (vars) =>
    textLayout(vars, [
      `Hi ${vars.requesterName},`,
      "Your request was approved.",
      [...accessFields(vars), field("From", formatUtc(vars.startsAt)), field("Until", formatUtc(vars.endsAt))].join(
        "\n",
      ),
      durationNote(vars),
      "The access ends on its own at the end of this window.",
      `View the request: ${vars.requestUrl}`,
    ]),
});

const requestDenied = defineTemplate({
  mjml: "request-denied.mjml",
  placeholders: ["requesterName", "target", "type", "scope", "deniedByName", "comment", "requestUrl"],
  subject: (vars: RequestDeniedVars) => `Denied: your request for ${vars.target}`,
  values: (vars) => ({
    requesterName: vars.requesterName,
    ...accessValues(vars),
    deniedByName: vars.deniedByName,
    comment: commentValue(vars.comment),
    requestUrl: vars.requestUrl,
  }),
  text: (vars) =>
    textLayout(vars, [
      `Hi ${vars.requesterName},`,
      `Your request was denied by ${vars.deniedByName}.`,
      [...accessFields(vars), field("Comment", commentText(vars.comment))].join("\n"),
      `View the request: ${vars.requestUrl}`,
    ]),
});

const requestExpired = defineTemplate({
  mjml: "request-expired.mjml",
  placeholders: ["requesterName", "target", "type", "scope", "expiredAt", "requestUrl"],
  subject: (vars: RequestExpiredVars) => `Expired: your request for ${vars.target}`,
  values: (vars) => ({
    requesterName: vars.requesterName,
    ...accessValues(vars),
    expiredAt: formatUtc(vars.expiredAt),
    requestUrl: vars.requestUrl,
  }),
  text: (vars) =>
    textLayout(vars, [
      `Hi ${vars.requesterName},`,
      `Your request expired at ${formatUtc(vars.expiredAt)} before enough approvers decided on it.`,
      accessFields(vars).join("\n"),
      "If you still need this access, submit a new request.",
      `View the request: ${vars.requestUrl}`,
    ]),
});

const accessRevoked = defineTemplate({
  mjml: "access-revoked.mjml",
  placeholders: ["requesterName", "target", "type", "scope", "revokedByName", "revokedAt", "comment", "requestUrl"],
  subject: (vars: AccessRevokedVars) => `Revoked: your access to ${vars.target}`,
  values: (vars) => ({
    requesterName: vars.requesterName,
    ...accessValues(vars),
    revokedByName: vars.revokedByName,
    revokedAt: formatUtc(vars.revokedAt),
    comment: commentValue(vars.comment),
    requestUrl: vars.requestUrl,
  }),
  text: (vars) =>
    textLayout(vars, [
      `Hi ${vars.requesterName},`,
      `Your access was revoked by ${vars.revokedByName} at ${formatUtc(vars.revokedAt)}.`,
      [...accessFields(vars), field("Comment", commentText(vars.comment))].join("\n"),
      `View the request: ${vars.requestUrl}`,
    ]),
});

function endedHow(vars: AccessEndedVars): string {
  return vars.endedEarly ? "You ended your access early, at" : "Your access window ended at";
}

function endNote(vars: AccessEndedVars): string {
  if (!vars.endedEarly) return "The window closed on its own.";
  return vars.endedEarly.reason?.trim() ? `Your reason: ${vars.endedEarly.reason.trim()}` : "You gave no reason.";
}

const accessEnded = defineTemplate({
  mjml: "access-ended.mjml",
  placeholders: ["requesterName", "target", "type", "scope", "endedHow", "endedAt", "endNote", "requestUrl"],
  subject: (vars: AccessEndedVars) => `Ended: your access to ${vars.target}`,
  values: (vars) => ({
    requesterName: vars.requesterName,
    ...accessValues(vars),
    endedHow: endedHow(vars),
    endedAt: formatUtc(vars.endedAt),
    endNote: endNote(vars),
    requestUrl: vars.requestUrl,
  }),
  text: (vars) =>
    textLayout(vars, [
      `Hi ${vars.requesterName},`,
      `${endedHow(vars)} ${formatUtc(vars.endedAt)}.`,
      [...accessFields(vars), ...(vars.endedEarly ? [field("Reason", commentText(vars.endedEarly.reason))] : [])].join(
        "\n",
      ),
      "If you need this access again, submit a new request.",
      `View the request: ${vars.requestUrl}`,
    ]),
});

const accessExtended = defineTemplate({
  mjml: "access-extended.mjml",
  placeholders: ["requesterName", "duration", "endsAt", "target", "type", "scope", "ticket", "requestUrl"],
  subject: (vars: AccessExtendedVars) => `Extended: your access to ${vars.target} until ${formatUtc(vars.endsAt)}`,
  values: (vars) => ({
    requesterName: vars.requesterName,
    duration: formatDuration(vars.durationHours),
    endsAt: formatUtc(vars.endsAt),
    ...accessValues(vars),
    ticket: ticketValue(vars),
    requestUrl: vars.requestUrl,
  }),
  text: (vars) =>
    textLayout(vars, [
      `Hi ${vars.requesterName},`,
      `Your access was extended by ${formatDuration(vars.durationHours)}. It now ends at ${formatUtc(vars.endsAt)}.`,
      accessFields(vars).join("\n"),
      "The access ends on its own at the new end time.",
      `View the extension request: ${vars.requestUrl}`,
    ]),
});

function extendCommand(vars: AccessExpiringVars): string {
  return `elevate Request-ElevatedAccessExtension -RequestId ${vars.requestId} -Hours 1 -Reason '...'`;
}

const accessExpiring = defineTemplate({
  mjml: "access-expiring.mjml",
  placeholders: ["requesterName", "endsAt", "target", "type", "scope", "ticket", "extendCommand", "requestUrl"],
  subject: (vars: AccessExpiringVars) => `Ends soon: your access to ${vars.target} ends at ${formatUtc(vars.endsAt)}`,
  values: (vars) => ({
    requesterName: vars.requesterName,
    endsAt: formatUtc(vars.endsAt),
    ...accessValues(vars),
    ticket: ticketValue(vars),
    extendCommand: extendCommand(vars),
    requestUrl: vars.requestUrl,
  }),
  text: (vars) =>
    textLayout(vars, [
      `Hi ${vars.requesterName},`,
      `Your access ends at ${formatUtc(vars.endsAt)}.`,
      accessFields(vars).join("\n"),
      `Need longer? Ask to extend it from the request page, or run:\n  ${extendCommand(vars)}`,
      `View the request: ${vars.requestUrl}`,
    ]),
});

const webhookDisabled = defineTemplate({
  mjml: "webhook-disabled.mjml",
  placeholders: ["adminName", "failures", "url", "disabledAt", "lastError"],
  subject: (vars: WebhookDisabledVars) => `Webhook endpoint disabled: ${vars.url}`,
  values: (vars) => ({
    adminName: vars.adminName,
    failures: String(vars.failures),
    url: vars.url,
    disabledAt: formatUtc(vars.disabledAt),
    lastError: vars.lastError,
  }),
  text: (vars) =>
    textLayout(vars, [
      `Hi ${vars.adminName},`,
      `Elevate stopped sending events to a webhook endpoint of ${vars.orgName} after ${vars.failures} deliveries in a row failed.`,
      [
        field("Endpoint", vars.url),
        field("Disabled", formatUtc(vars.disabledAt)),
        field("Last error", quoted(vars.lastError)),
      ].join("\n"),
      "Events that happen while it is disabled are not recorded for it. Once the receiver works again, enable the endpoint (updateWebhookEndpoint with enabled: true) and replay the failed deliveries you need (replayWebhookDelivery).",
    ]),
});

export const templates: { readonly [N in TemplateName]: TemplateDefinition<TemplateVars<N>> } = {
  "approval-needed": approvalNeeded,
  "approval-reminder": approvalReminder,
  "approval-escalated": approvalEscalated,
  "request-approved": requestApproved,
  "request-denied": requestDenied,
  "request-expired": requestExpired,
  "access-revoked": accessRevoked,
  "access-ended": accessEnded,
  "access-extended": accessExtended,
  "access-expiring": accessExpiring,
  "webhook-disabled": webhookDisabled,
};

export const templateNames = mailTemplates;
