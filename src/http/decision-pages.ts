import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { consumeDecisionToken, findDecisionToken } from "../domain/approval-tokens/approval-tokens.service.ts";
import { type ServiceDeps, serviceContext } from "../domain/context.ts";
import { ConflictError, DomainError } from "../domain/errors.ts";
import { actorById } from "../domain/identity.ts";
import { decideAccessRequest } from "../domain/requests/requests.service.ts";
import {
  pageCssHash,
  renderDecisionConfirmPage,
  renderDecisionDonePage,
  renderDecisionOutcomePage,
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

type Token = NonNullable<Awaited<ReturnType<typeof findDecisionToken>>>;

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

/** What a used or stale link shows: who decided what, and when. */
function settledPage(token: Token): string | null {
  const { request } = token;
  const orgName = token.approver.organization.name;
  const decisions = request.decisions.map((decision) => ({
    label: `${decision.approved ? "Approved" : "Denied"} by ${decision.approver.displayName} <${decision.approver.email}>`,
    value: decision.decidedAt,
  }));
  if (request.status !== "PENDING") {
    return outcome(
      orgName,
      `This request is ${request.status.toLowerCase()}`,
      "Nothing was changed by opening this link.",
      [
        ...decisions,
        ...(request.decidedAt && decisions.length === 0 ? [{ label: "Settled", value: request.decidedAt }] : []),
      ],
    );
  }
  if (token.usedAt) {
    return outcome(orgName, "This link was already used", "Each link decides once.", [
      { label: "Used", value: token.usedAt },
      ...decisions,
    ]);
  }
  if (request.expiresAt <= new Date() || token.expiresAt <= new Date()) {
    return outcome(orgName, "This request has expired", "Nobody decided it in time; the requester can ask again.", [
      { label: "Expired", value: request.expiresAt },
    ]);
  }
  return null;
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

  async function show(req: IncomingMessage, res: ServerResponse, token: Token, value: string): Promise<void> {
    const settled = settledPage(token);
    if (settled) return send(req, res, 200, settled);
    const csrf = randomBytes(24).toString("base64url");
    const cookie = `${csrfCookie}=${csrf}; Path=/decide/; HttpOnly; SameSite=Strict${secureCookie ? "; Secure" : ""}`;
    const { request } = token;
    const html = renderDecisionConfirmPage({
      orgName: token.approver.organization.name,
      decision: token.decision,
      approverName: token.approver.displayName,
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

  async function decide(req: IncomingMessage, res: ServerResponse, token: Token, value: string): Promise<void> {
    const orgName = token.approver.organization.name;
    const form = await readForm(req);
    const cookie = readCookie(req, csrfCookie);
    if (!form || !cookie || !sameValue(cookie, form.get("csrf") ?? "") || !fromOurPage(req, publicOrigin)) {
      return send(
        req,
        res,
        403,
        outcome(orgName, "Please try again", "Open the link from your email and use its button."),
      );
    }
    const settled = settledPage(token);
    if (settled) return send(req, res, 409, settled);
    const actor = await actorById(deps.db, token.organizationId, token.approverId);
    if (!actor) return send(req, res, 404, invalidLink());
    const approved = token.decision === "APPROVE";
    try {
      const request = await decideAccessRequest(
        serviceContext(deps, token.organizationId, actor),
        { requestId: token.requestId, comment: form.get("comment") },
        approved,
        "EMAIL",
        async (tx, now) => {
          if (!(await consumeDecisionToken(tx, token.id, now))) throw new ConflictError("this link was already used");
        },
      );
      const [approvals, access] = await Promise.all([
        deps.db.accessDecision.count({ where: { requestId: request.id, approved: true } }),
        deps.db.accessAuthorization.findUnique({
          where: { requestId: request.id },
          select: { startsAt: true, endsAt: true },
        }),
      ]);
      const page = renderDecisionDonePage({
        orgName,
        target: request.target,
        requesterName: token.request.requester.displayName,
        requesterEmail: token.request.requester.email,
        status: request.status === "APPROVED" || request.status === "DENIED" ? request.status : "PENDING",
        approvals: { given: approvals, required: request.requiredApprovals },
        access,
      });
      send(req, res, 200, page);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // What happened meanwhile (another approver decided, the link was used) is the better answer.
      const fresh = await findDecisionToken(deps.db, value);
      const page = (fresh && settledPage(fresh)) ?? outcome(orgName, "Not decided", error.message);
      send(req, res, error.code === "NOT_AN_APPROVER" || error.code === "SELF_APPROVAL" ? 403 : 409, page);
    }
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const value = readTokenValue(req);
    const token = value ? await findDecisionToken(deps.db, value) : null;
    if (!token || !value) return send(req, res, 404, invalidLink());
    if (req.method === "GET" || req.method === "HEAD") return show(req, res, token, value);
    if (req.method === "POST") return decide(req, res, token, value);
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
