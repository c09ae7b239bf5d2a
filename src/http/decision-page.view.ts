import { createHash } from "node:crypto";
import {
  escapeHtml,
  formatDuration,
  formatUtc,
  type RequestScope,
  type RequestType,
  requestScopeLabel,
  requestTypeLabel,
} from "../email/format.ts";

export type Decision = "APPROVE" | "DENY";

export interface DecisionRequestSummary {
  requesterName: string;
  requesterEmail: string;
  target: string;
  type: RequestType;
  scope: RequestScope;
  reason: string;
  durationHours: number;
  expiresAt: Date;
}

export interface DecisionConfirmPageInput {
  orgName: string;
  decision: Decision;
  request: DecisionRequestSummary;
  approverName: string;
  /** Absolute http(s) URL or a same-origin path starting with "/". */
  formAction: string;
  csrfToken: string;
}

export interface OutcomeDetail {
  label: string;
  value: string | Date;
}

export interface DecisionOutcomePageInput {
  orgName: string;
  title: string;
  message: string;
  details?: readonly OutcomeDetail[] | undefined;
}

/** What a decision through a link led to, for the page the approver sees next. */
export interface DecisionDonePageInput {
  orgName: string;
  target: string;
  requesterName: string;
  requesterEmail: string;
  /** The request after the decision: approved, still waiting for approvals, or denied. */
  status: "APPROVED" | "PENDING" | "DENIED";
  approvals: { given: number; required: number };
  /** The access window the approval opened. */
  access: { startsAt: Date; endsAt: Date } | null;
}

/** The only styling of these pages: no style attributes, so a CSP `style-src` hash of this text is enough. */
export const pageCss = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;padding:16px;background:#f3f4f6;color:#1f2933;font:16px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:34rem;margin:0 auto;padding:24px;background:#fff;border-radius:8px}
.org{margin:0 0 8px;font-size:14px;font-weight:600;color:#3e4c59}
h1{margin:0 0 12px;font-size:22px;line-height:1.3}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:16px 0}
dt{font-weight:600;color:#52606d}
dd{margin:0;overflow-wrap:anywhere}
.multiline{white-space:pre-wrap}
label{display:block;margin:16px 0 4px;font-weight:600}
textarea{display:block;width:100%;min-height:6rem;padding:8px;font:inherit;border:1px solid #9aa5b1;border-radius:6px}
button{display:block;width:100%;margin-top:16px;padding:14px 28px;border:0;border-radius:6px;color:#fff;font:inherit;font-weight:600;cursor:pointer}
.approve{background:#1a7f37}
.deny{background:#b42318}
a.signin{display:block;margin-top:16px;padding:14px 28px;border-radius:6px;background:#1f4e8c;color:#fff;font-weight:600;text-align:center;text-decoration:none}
@media (max-width:30rem){body{padding:0}main{border-radius:0}dl{grid-template-columns:1fr;gap:0}dd{margin-bottom:8px}}
`.trim();

/** CSP source for {@link pageCss}, e.g. `style-src ${pageCssHash}`; includes the quotes. */
export const pageCssHash = `'sha256-${createHash("sha256").update(pageCss).digest("base64")}'`;

const decisionWords: Record<Decision, { verb: string; button: string; className: string }> = {
  APPROVE: { verb: "Approve", button: "Approve request", className: "approve" },
  DENY: { verb: "Deny", button: "Deny request", className: "deny" },
};

function page(orgName: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · ${escapeHtml(orgName)}</title>
<style>${pageCss}</style>
</head>
<body>
<main>
<p class="org">${escapeHtml(orgName)} · Elevate</p>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

function detailList(details: readonly { label: string; value: string; multiline?: boolean }[]): string {
  const items = details.map(({ label, value, multiline }) => {
    const valueClass = multiline ? ' class="multiline"' : "";
    return `<dt>${escapeHtml(label)}</dt><dd${valueClass}>${escapeHtml(value)}</dd>`;
  });
  return `<dl>\n${items.join("\n")}\n</dl>`;
}

/** Rejects schemes such as `javascript:`; the target is built by our own code, so anything else is a bug. */
function formActionUrl(formAction: string): string {
  const isPath = formAction.startsWith("/") && !formAction.startsWith("//");
  const isHttpUrl = URL.canParse(formAction) && /^https?:$/.test(new URL(formAction).protocol);
  if (!isPath && !isHttpUrl) throw new Error("formAction must be an absolute http(s) URL or a path starting with /");
  return formAction;
}

/**
 * The page a decision link from the approval email opens. Deciding takes this POST, so a mail scanner that
 * follows links cannot approve or deny anything; the page works without JavaScript.
 */
export function renderDecisionConfirmPage(input: DecisionConfirmPageInput): string {
  const { request } = input;
  const words = decisionWords[input.decision];
  const body = `<p>You are deciding as <strong>${escapeHtml(input.approverName)}</strong>.</p>
${detailList([
  { label: "Requester", value: `${request.requesterName} <${request.requesterEmail}>` },
  { label: "Target", value: request.target },
  { label: "Type", value: requestTypeLabel(request.type) },
  { label: "Scope", value: requestScopeLabel(request.scope) },
  { label: "Duration", value: formatDuration(request.durationHours) },
  { label: "Reason", value: request.reason, multiline: true },
  { label: "Expires", value: formatUtc(request.expiresAt) },
])}
<form method="post" action="${escapeHtml(formActionUrl(input.formAction))}">
<input type="hidden" name="csrf" value="${escapeHtml(input.csrfToken)}">
<label for="comment">Comment (optional)</label>
<textarea id="comment" name="comment" maxlength="2000"></textarea>
${
  input.decision === "APPROVE" && request.durationHours > 1
    ? `<label for="hours">Hours to grant (optional: fewer than the ${request.durationHours} asked)</label>
<input id="hours" name="hours" type="number" min="1" max="${request.durationHours}" step="1">
`
    : ""
}<button type="submit" class="${words.className}">${words.button}</button>
</form>`;
  return page(input.orgName, `${words.verb} this request?`, body);
}

export interface SignInRequiredPageInput {
  orgName: string;
  decision: Decision;
  request: DecisionRequestSummary;
  /** Absolute http(s) URL of the request in the console. */
  signInUrl: string;
}

/**
 * The page a link of a step-up request opens: no form at all, since only a decision signed
 * in with multi-factor authentication counts; a link to the console, which signs in first.
 */
export function renderSignInRequiredPage(input: SignInRequiredPageInput): string {
  const { request } = input;
  const body = `<p>Approvers of this request must sign in with multi-factor authentication to decide. This link cannot decide it; sign in and ${input.decision === "APPROVE" ? "approve" : "deny"} it in Elevate.</p>
${detailList([
  { label: "Requester", value: `${request.requesterName} <${request.requesterEmail}>` },
  { label: "Target", value: request.target },
  { label: "Type", value: requestTypeLabel(request.type) },
  { label: "Scope", value: requestScopeLabel(request.scope) },
  { label: "Duration", value: formatDuration(request.durationHours) },
  { label: "Reason", value: request.reason, multiline: true },
  { label: "Expires", value: formatUtc(request.expiresAt) },
])}
<a class="signin" href="${escapeHtml(formActionUrl(input.signInUrl))}">Sign in to decide</a>`;
  return page(input.orgName, "Sign in to decide", body);
}

/** Every end state of a decision link: done, already decided, expired, invalid. */
export function renderDecisionOutcomePage(input: DecisionOutcomePageInput): string {
  const details = (input.details ?? []).map(({ label, value }) => ({
    label,
    value: value instanceof Date ? formatUtc(value) : value,
  }));
  const list = details.length > 0 ? `\n${detailList(details)}` : "";
  return page(input.orgName, input.title, `<p>${escapeHtml(input.message)}</p>${list}`);
}

function approvalsNeeded(count: number): string {
  return count === 1 ? "1 more approval" : `${count} more approvals`;
}

/** The page after an approver decided from a link: the outcome and, once approved, the access window. */
export function renderDecisionDonePage(input: DecisionDonePageInput): string {
  const request = [
    { label: "Request", value: input.target },
    { label: "Requester", value: `${input.requesterName} <${input.requesterEmail}>` },
  ];
  const approvals = { label: "Approvals", value: `${input.approvals.given} of ${input.approvals.required}` };
  if (input.status === "DENIED") {
    return renderDecisionOutcomePage({
      orgName: input.orgName,
      title: "Request denied",
      message: "No access was granted. The requester has been told.",
      details: request,
    });
  }
  if (input.status === "PENDING" || !input.access) {
    const missing = Math.max(input.approvals.required - input.approvals.given, 0);
    return renderDecisionOutcomePage({
      orgName: input.orgName,
      title: "Approval recorded",
      message: `Access starts once the request has ${approvalsNeeded(missing)} from other approvers.`,
      details: [...request, approvals, { label: "Still needed", value: approvalsNeeded(missing) }],
    });
  }
  return renderDecisionOutcomePage({
    orgName: input.orgName,
    title: "Request approved",
    message: `Access is granted until ${formatUtc(input.access.endsAt)}. The requester has been told.`,
    details: [
      ...request,
      approvals,
      { label: "Access from", value: input.access.startsAt },
      { label: "Access until", value: input.access.endsAt },
    ],
  });
}
