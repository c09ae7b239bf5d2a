import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintDecisionTokens } from "../../src/domain/approval-tokens/approval-tokens.service.ts";
import { escapeHtml, formatUtc } from "../../src/email/format.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { ApproveRequest } from "../helpers/documents.ts";
import { approve, createPolicy, createRequest, enableControl, rawId, targetsOf } from "../helpers/fixtures.ts";

// The decision pages behind /decide/<token>, on a listening server. Links are minted
// as the mail job mints them; the app's clock is the test's, so expiry is a moment
// the test sets, not a wait.

const publicUrl = "http://elevate.test";
let now: Date | null = null;
const clock = () => now ?? new Date();

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await startTestApp({ publicUrl, clock });
  t.app.server.listen(0, "127.0.0.1");
  await once(t.app.server, "listening");
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  await enableControl(t);
  await createPolicy(t, { type: "ROLE_GROUP", target: "Recipient Management", approvalType: "MANUAL" });
  await createPolicy(t, { target: "Exchange\\Set-Mailbox", approvalType: "MANUAL", requiredApprovals: 2 });
});
afterAll(async () => {
  t.app.server.closeAllConnections();
  await new Promise<void>((resolve) => t.app.server.close(() => resolve()));
  await t.close();
});

const nextTarget = targetsOf("Recipient Management", ["Exchange\\Set-Mailbox"]);

/** A PENDING request of requester@ and the Approve and Deny paths of `approver`'s links. */
async function pendingWithLinks(options: { approver?: string; target?: string } = {}) {
  const requestId = await createRequest(t, options.target ?? nextTarget());
  const request = await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } });
  const approver = await t.db.user.findFirstOrThrow({ where: { email: options.approver ?? "approver1@fabrikam.com" } });
  const tokens = await mintDecisionTokens(t.db, request, approver.id);
  return { requestId, request, approve: `${base}/decide/${tokens.APPROVE}`, deny: `${base}/decide/${tokens.DENY}` };
}

/** The confirmation page's form token and cookie, as a browser gets them. */
async function openForm(link: string) {
  const page = await fetch(link);
  const html = await page.text();
  const csrf = html.match(/name="csrf" value="([^"]+)"/)?.[1];
  const cookie = page.headers.get("set-cookie")?.split(";")[0];
  if (!csrf || !cookie) throw new Error(`no decision form on the page: ${html}`);
  return { csrf, cookie };
}

/** Posts the confirmation form with the page's own token and cookie; `headers` and `extra` change one thing. */
async function post(
  link: string,
  options: {
    headers?: Record<string, string>;
    extra?: Record<string, string>;
    form?: { csrf: string; cookie: string };
  } = {},
) {
  const { csrf, cookie } = options.form ?? (await openForm(link));
  const response = await fetch(link, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie,
      origin: publicUrl,
      "sec-fetch-site": "same-origin",
      ...options.headers,
    },
    body: new URLSearchParams({ csrf, comment: "from the page", ...options.extra }).toString(),
  });
  return { status: response.status, html: await response.text() };
}

/** Nothing about the request changed: still PENDING, no decision, no used token. */
async function expectUntouched(requestId: string) {
  const id = rawId(requestId);
  expect((await t.db.accessRequest.findUniqueOrThrow({ where: { id } })).status).toBe("PENDING");
  expect(await t.db.accessDecision.count({ where: { requestId: id } })).toBe(0);
  expect(await t.db.approvalToken.count({ where: { requestId: id, usedAt: { not: null } } })).toBe(0);
}

describe("where a decision may come from", () => {
  it("decides a post from our own page (the control for the refusals below)", async () => {
    const { requestId, approve: link } = await pendingWithLinks();
    const result = await post(link);
    expect(result.status).toBe(200);
    expect(result.html).toContain("Request approved");
    expect((await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } })).status).toBe("APPROVED");
  });

  it("refuses a post whose Origin is another site, even with the page's cookie and form token", async () => {
    const { requestId, approve: link } = await pendingWithLinks();
    const result = await post(link, { headers: { origin: "https://evil.example" } });
    expect(result.status).toBe(403);
    expect(result.html).toContain("Please try again");
    await expectUntouched(requestId);
  });

  it("refuses a post a browser marks as cross-site or same-site, even with the page's cookie and form token", async () => {
    const { requestId, approve: link } = await pendingWithLinks();
    for (const site of ["cross-site", "same-site"]) {
      const result = await post(link, { headers: { "sec-fetch-site": site } });
      expect(result.status, site).toBe(403);
    }
    await expectUntouched(requestId);
  });

  it("refuses a form larger than the limit without deciding", async () => {
    const { requestId, approve: link } = await pendingWithLinks();
    const result = await post(link, { extra: { padding: "x".repeat(20 * 1024) } });
    expect(result.status).toBe(403);
    await expectUntouched(requestId);
  });

  it("answers 405 with Allow for methods other than GET, HEAD and POST", async () => {
    const { requestId, approve: link } = await pendingWithLinks();
    const form = await openForm(link);
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      const response = await fetch(link, {
        method,
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: form.cookie, origin: publicUrl },
        body: new URLSearchParams({ csrf: form.csrf }).toString(),
      });
      expect(response.status, method).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD, POST");
    }
    await expectUntouched(requestId);
  });
});

describe("links that can no longer decide", () => {
  it("a POST on a link of a request settled meanwhile decides nothing and says who decided what and when", async () => {
    const { requestId, approve: link, deny } = await pendingWithLinks();
    const form = await openForm(deny);
    // approver2 approves through GraphQL while approver1's page is open.
    expect(await approve(t, requestId, "approver2@fabrikam.com")).toMatchObject({ status: "APPROVED" });
    const decision = await t.db.accessDecision.findFirstOrThrow({ where: { requestId: rawId(requestId) } });
    for (const target of [deny, link]) {
      const result = await post(target, { form });
      expect(result.status).toBe(409);
      expect(result.html).toContain("This request is approved");
      expect(result.html).toContain(
        `<dt>${escapeHtml("Approved by Approver Two <approver2@fabrikam.com>")}</dt><dd>${formatUtc(decision.decidedAt)}</dd>`,
      );
    }
    expect(await t.db.accessDecision.count({ where: { requestId: rawId(requestId) } })).toBe(1);
    expect(await t.db.approvalToken.count({ where: { requestId: rawId(requestId), usedAt: { not: null } } })).toBe(0);
  });

  it("a POST after the request's expiry decides nothing, before any job has expired it", async () => {
    const { requestId, request, approve: link } = await pendingWithLinks();
    const form = await openForm(link);
    try {
      now = new Date(request.expiresAt.getTime() + 1);
      expect(await (await fetch(link)).text()).toContain("This request has expired");
      const result = await post(link, { form });
      expect(result.status).toBe(409);
      expect(result.html).toContain("This request has expired");
      expect(result.html).toContain(`<dt>Expired</dt><dd>${formatUtc(request.expiresAt)}</dd>`);
    } finally {
      now = null;
    }
    await expectUntouched(requestId);
  });

  it("refuses a link past its own expiry while its request still waits, on GET and on POST", async () => {
    const { requestId, approve: link } = await pendingWithLinks();
    const form = await openForm(link);
    // The link's own expiry, an hour ago; the request's is still a day away.
    await t.db.approvalToken.updateMany({
      where: { requestId: rawId(requestId) },
      data: { expiresAt: new Date(Date.now() - 3_600_000) },
    });
    const page = await (await fetch(link)).text();
    expect(page).toContain("This request has expired");
    expect(page).not.toContain("<form");
    const result = await post(link, { form });
    expect(result.status).toBe(409);
    expect(result.html).toContain("This request has expired");
    await expectUntouched(requestId);
  });

  it("decides only as the approver a link was minted for: another approver's link is theirs, not the holder's", async () => {
    const { requestId } = await pendingWithLinks({ target: "Exchange\\Set-Mailbox" });
    // approver1 approves through GraphQL; approver2's link is then posted (say, from a forwarded mail).
    expect(await approve(t, requestId, "approver1@fabrikam.com")).toMatchObject({ status: "PENDING" });
    const request = await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } });
    const approver1 = await t.db.user.findFirstOrThrow({ where: { email: "approver1@fabrikam.com" } });
    const approver2 = await t.db.user.findFirstOrThrow({ where: { email: "approver2@fabrikam.com" } });
    const own = await mintDecisionTokens(t.db, request, approver1.id);
    // approver1's own link cannot add a second approval by the same person.
    const again = await post(`${base}/decide/${own.APPROVE}`);
    expect(again.status).toBe(409);
    expect(await t.db.accessDecision.count({ where: { requestId: request.id } })).toBe(1);
    const other = await mintDecisionTokens(t.db, request, approver2.id);
    const result = await post(`${base}/decide/${other.APPROVE}`);
    expect(result.status).toBe(200);
    const decisions = await t.db.accessDecision.findMany({
      where: { requestId: request.id },
      orderBy: { decidedAt: "asc" },
      include: { approver: true },
    });
    expect(decisions.map((decision) => [decision.approver.email, decision.channel])).toEqual([
      ["approver1@fabrikam.com", "API"],
      ["approver2@fabrikam.com", "EMAIL"],
    ]);
  });

  it("a used link says who decided what and when, and when the link was used", async () => {
    const { requestId, approve: link } = await pendingWithLinks({ target: "Exchange\\Set-Mailbox" });
    const form = await openForm(link);
    expect((await post(link, { form })).status).toBe(200);
    const token = await t.db.approvalToken.findFirstOrThrow({
      where: { requestId: rawId(requestId), usedAt: { not: null } },
    });
    const decision = await t.db.accessDecision.findFirstOrThrow({ where: { requestId: rawId(requestId) } });
    for (const reused of [await (await fetch(link)).text(), (await post(link, { form })).html]) {
      expect(reused).toContain("This link was already used");
      expect(reused).toContain(`<dt>Used</dt><dd>${formatUtc(token.usedAt!)}</dd>`);
      expect(reused).toContain(
        `<dt>${escapeHtml("Approved by Approver One <approver1@fabrikam.com>")}</dt><dd>${formatUtc(decision.decidedAt)}</dd>`,
      );
    }
    expect(await t.db.accessDecision.count({ where: { requestId: rawId(requestId) } })).toBe(1);
    // Still waiting for a second approver.
    const second = (await t.as("approver2@fabrikam.com", ApproveRequest, { input: { requestId } }))
      .approveAccessRequest;
    expect(second).toMatchObject({ status: "APPROVED" });
  });
});
