import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type DecisionLink,
  decideByLink,
  isSpent,
  type LinkDecision,
  lookUpLink,
  type SpentLink,
} from "../domain/approval-tokens/decide-by-link.ts";
import { clockOf, type ServiceDeps } from "../domain/context.ts";
import { currentRequestId } from "../observability/request-context.ts";
import {
  pageCssHash,
  renderDecisionConfirmPage,
  renderDecisionDonePage,
  renderDecisionOutcomePage,
  renderSignInRequiredPage,
} from "./decision-page.view.ts";

export interface DecisionPageDeps extends ServiceDeps {
  publicUrl: string;
}

const csrfCookie = "elevate_decide_csrf";
const maxFormBytes = 16 * 1024;

// No scripts at all, styles only by hash, forms only to ourselves, never framed.
const securityHeaders = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy": `default-src 'none'; style-src ${pageCssHash}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
};

function send(req: IncomingMessage, res: ServerResponse, status: number, html: string, headers = {}): void {
  res.writeHead(status, { ...securityHeaders, ...headers });
  res.end(req.method === "HEAD" ? undefined : html);
}

function outcome(orgName: string, title: string, message: string, details?: { label: string; value: string | Date }[]) {
  return renderDecisionOutcomePage({ orgName, title, message, details });
}

const invalidLink = () =>
  outcome(
    "Elevate",
    "This link is not valid",
    "The link is unknown or incomplete. Open the request from your inbox again.",
  );

/** What a link that can no longer decide shows: who decided what, and when. */
function spentPage({ kind: state, link }: SpentLink): string {
  const { request } = link;
  const orgName = link.approver.organization.name;
  const decisions = request.decisions.map((decision) => ({
    label: `${decision.approved ? "Approved" : "Denied"} by ${decision.approver.displayName} <${decision.approver.email}>`,
    value: decision.decidedAt,
  }));
  switch (state) {
    case "settled":
      return outcome(
        orgName,
        `This request is ${request.status.toLowerCase()}`,
        "Nothing was changed by opening this link.",
        [
          ...decisions,
          ...(request.decidedAt && decisions.length === 0 ? [{ label: "Settled", value: request.decidedAt }] : []),
        ],
      );
    case "used":
      return outcome(orgName, "This link was already used", "Each link decides once.", [
        ...(link.usedAt ? [{ label: "Used", value: link.usedAt }] : []),
        ...decisions,
      ]);
    case "expired":
      return outcome(orgName, "This request has expired", "Nobody decided it in time; the requester can ask again.", [
        { label: "Expired", value: request.expiresAt },
      ]);
  }
}

/** The page after a decision through the link: its outcome, and the access window or what remains. */
function decidedPage(decision: Extract<LinkDecision, { kind: "decided" | "recorded" | "refused" }>): {
  status: number;
  html: string;
} {
  const orgName = decision.link.approver.organization.name;
  const { request } = decision.link;
  const done = {
    orgName,
    target: request.target,
    requesterName: request.requester.displayName,
    requesterEmail: request.requester.email,
  };
  switch (decision.kind) {
    case "decided":
      return {
        status: 200,
        html: renderDecisionDonePage({
          ...done,
          status: decision.status,
          // Approved means the quorum was met by this approval.
          approvals: { given: request.requiredApprovals, required: request.requiredApprovals },
          access: decision.window && { startsAt: decision.window.from, endsAt: decision.window.until },
        }),
      };
    case "recorded":
      return {
        status: 200,
        html: renderDecisionDonePage({
          ...done,
          status: "PENDING",
          approvals: { given: decision.approvals, required: decision.requiredApprovals },
          access: null,
        }),
      };
    case "refused":
      return {
        status: decision.code === "NOT_AN_APPROVER" || decision.code === "SELF_APPROVAL" ? 403 : 409,
        html: outcome(orgName, "Not decided", decision.message),
      };
  }
}

function readCookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return null;
}

function sameValue(a: string, b: string): boolean {
  const [left, right] = [Buffer.from(a), Buffer.from(b)];
  return left.length === right.length && timingSafeEqual(left, right);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | null> {
  if (!(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxFormBytes) return null;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/**
 * The one-click decision pages behind /decide/<token>. GET and HEAD only show
 * a confirmation page (mail scanners fetch links); its POST decides through the
 * same domain function as the GraphQL mutation, with channel EMAIL.
 */
export function createDecisionPages(deps: DecisionPageDeps) {
  const secureCookie = deps.publicUrl.startsWith("https://");
  const publicOrigin = new URL(deps.publicUrl).origin;
  const clock = clockOf(deps);

  function show(req: IncomingMessage, res: ServerResponse, link: DecisionLink, value: string): void {
    const csrf = randomBytes(24).toString("base64url");
    const cookie = `${csrfCookie}=${csrf}; Path=/decide/; HttpOnly; SameSite=Strict${secureCookie ? "; Secure" : ""}`;
    const { request } = link;
    const html = renderDecisionConfirmPage({
      orgName: link.approver.organization.name,
      decision: link.decision,
      approverName: link.approver.displayName,
      formAction: `/decide/${value}`,
      csrfToken: csrf,
      request: {
        requesterName: request.requester.displayName,
        requesterEmail: request.requester.email,
        target: request.target,
        type: request.type,
        scope: request.scope,
        reason: request.reason,
        durationHours: request.durationHours,
        expiresAt: request.expiresAt,
      },
    });
    send(req, res, 200, html, { "set-cookie": cookie });
  }

  /** Where an approver of a step-up request decides: the console's page of the request, behind the sign-in. */
  function signInPage(link: DecisionLink): string {
    const { request } = link;
    return renderSignInRequiredPage({
      orgName: link.approver.organization.name,
      decision: link.decision,
      signInUrl: new URL(`/requests/${request.id}`, deps.publicUrl).href,
      request: {
        requesterName: request.requester.displayName,
        requesterEmail: request.requester.email,
        target: request.target,
        type: request.type,
        scope: request.scope,
        reason: request.reason,
        durationHours: request.durationHours,
        expiresAt: request.expiresAt,
      },
    });
  }

  async function decide(req: IncomingMessage, res: ServerResponse, link: DecisionLink, value: string): Promise<void> {
    const form = await readForm(req);
    const cookie = readCookie(req, csrfCookie);
    if (!form || !cookie || !sameValue(cookie, form.get("csrf") ?? "") || !fromOurPage(req, publicOrigin)) {
      const orgName = link.approver.organization.name;
      return send(
        req,
        res,
        403,
        outcome(orgName, "Please try again", "Open the link from your email and use its button."),
      );
    }
    const hours = form.get("hours")?.trim();
    const decision = await decideByLink(
      deps,
      value,
      form.get("comment"),
      currentRequestId(),
      hours ? Number(hours) : null,
    );
    if (decision.kind === "unknown") return send(req, res, 404, invalidLink());
    if (isSpent(decision)) return send(req, res, 409, spentPage(decision));
    if (decision.kind === "signInRequired") return send(req, res, 403, signInPage(decision.link));
    const page = decidedPage(decision);
    send(req, res, page.status, page.html);
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const value = readTokenValue(req);
    const found = value ? await lookUpLink(deps.db, value, clock()) : ({ kind: "unknown" } as const);
    if (found.kind === "unknown" || !value) return send(req, res, 404, invalidLink());
    if (req.method === "GET" || req.method === "HEAD") {
      if (isSpent(found)) return send(req, res, 200, spentPage(found));
      if (found.kind === "signInRequired") return send(req, res, 200, signInPage(found.link));
      return show(req, res, found.link, value);
    }
    if (req.method === "POST") return decide(req, res, found.link, value);
    send(req, res, 405, invalidLink(), { allow: "GET, HEAD, POST" });
  };
}

/**
 * Browsers that say where a form post comes from must say it comes from us. Under
 * `Referrer-Policy: no-referrer` they send `Origin: null`, so the cookie-bound
 * form token above is what really ties the post to our page.
 */
function fromOurPage(req: IncomingMessage, publicOrigin: string): boolean {
  const origin = req.headers.origin;
  const site = req.headers["sec-fetch-site"];
  if (origin && origin !== "null" && origin !== publicOrigin) return false;
  return site === undefined || site === "same-origin" || site === "none";
}

function readTokenValue(req: IncomingMessage): string | null {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  return path.match(/^\/decide\/([^/]+)$/)?.[1] ?? null;
}
