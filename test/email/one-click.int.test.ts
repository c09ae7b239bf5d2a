import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintDecisionTokens } from "../../src/domain/approval-tokens/approval-tokens.service.ts";
import { encodeGlobalId } from "../../src/domain/global-id.ts";
import { approveAccessRequest, createAccessRequest } from "../../src/domain/requests/requests.service.ts";
import { deliverMail } from "../../src/email/deliver.ts";
import { escapeHtml, formatUtc } from "../../src/email/format.ts";
import { smtpMailer } from "../../src/email/mailer.ts";
import { jobTable } from "../../src/jobs/queues.ts";
import { GetRequest, RemoveMembers } from "../helpers/documents.ts";
import { createPolicy, createRequest, enableControl, rawId, targetsOf } from "../helpers/fixtures.ts";
import { actorFor, contextFor, reconcilerFor } from "../helpers/jobs.ts";
import { decisionLink, startMailingApp, submitDecision } from "../helpers/mail.ts";
import { waitFor } from "../helpers/processes.ts";

let env: Awaited<ReturnType<typeof startMailingApp>>;
beforeAll(async () => {
  env = await startMailingApp();
  await enableControl(env.t);
  await createPolicy(env.t, { type: "ROLE_GROUP", target: "Recipient Management", approvalType: "MANUAL" });
  await createPolicy(env.t, { target: "Exchange\\Set-Mailbox", approvalType: "MANUAL", requiredApprovals: 2 });
});
afterAll(() => env.close());

// Each request its own task under the role group's policy: a requester keeps one open request per target.
const nextTarget = targetsOf("Recipient Management", ["Exchange\\Set-Mailbox"]);

/** Whether a message is about this request: its "view the request" link names it. */
function mentions(mail: { text: string }, requestId: string): boolean {
  return mail.text.includes(`/requests/${rawId(requestId)}`);
}

/** Creates a request and waits for each eligible approver's message. */
async function requestWithMail(options: { as?: string; target?: string } = {}) {
  const target = options.target ?? nextTarget();
  const requestId = await createRequest(env.t, target, { as: options.as });
  const expected = await env.t.db.emailMessage.count({
    where: { requestId: rawId(requestId), template: "approval-needed" },
  });
  const mails = await env.smtp.messages(
    (mail) => mail.subject.startsWith("Approval needed") && mentions(mail, requestId),
    expected,
  );
  return { requestId, mails, target };
}

/**
 * Proves the mail path settled: a marker request's approval mail goes through the same
 * queue and worker after whatever came before, and then the mail queue holds no job.
 */
async function sendMarker() {
  const { requestId, mails } = await requestWithMail();
  await mailSettled();
  return { requestId, messageIds: mails.map((mail) => mail.messageId) };
}

/** Waits until the mail queue holds no job: nothing earlier is still on its way. */
async function mailSettled() {
  await waitFor("the mail queue to drain", async () => {
    const counts = await env.runtime.queues.queue("sendMail").getJobCounts("waiting", "active", "delayed");
    return Object.values(counts).every((count) => count === 0);
  });
}

const status = async (requestId: string) =>
  (await env.t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } })).status;

describe("deciding from the inbox", () => {
  it("mails each eligible approver, approves through approver1's link, and tells the requester", async () => {
    const { requestId, mails, target } = await requestWithMail();
    expect(mails.map((mail) => mail.to).sort()).toEqual(["approver1@fabrikam.com", "approver2@fabrikam.com"]);
    const mine = mails.find((mail) => mail.to === "approver1@fabrikam.com")!;
    expect(mine.text).toContain("Customer escalation 4711");

    const result = await submitDecision(decisionLink(mine, "Approve"), "Approved from my phone");
    expect(result.status).toBe(200);
    expect(result.html).toContain("Request approved");
    // The page says what the approval did: the access window it opened.
    const grant = await env.t.db.accessAuthorization.findUniqueOrThrow({ where: { requestId: rawId(requestId) } });
    expect(result.html).toContain(`<dt>Access from</dt><dd>${formatUtc(grant.startsAt)}</dd>`);
    expect(result.html).toContain(`<dt>Access until</dt><dd>${formatUtc(grant.endsAt)}</dd>`);
    expect(result.html).toContain(`<dt>Request</dt><dd>${escapeHtml(target)}</dd>`);

    const request = (await env.t.as("requester@fabrikam.com", GetRequest, { id: requestId })).accessRequest;
    expect(request?.status).toBe("APPROVED");
    expect(request?.decisions).toEqual([
      {
        approver: { email: "approver1@fabrikam.com" },
        approved: true,
        comment: "Approved from my phone",
        channel: "EMAIL",
      },
    ]);
    const [approved] = await env.smtp.messages(
      (mail) => mail.to === "requester@fabrikam.com" && mail.subject.startsWith("Approved"),
    );
    expect(approved?.text).toContain(target);

    // The other approver's link is stale now, and says who decided.
    const other = mails.find((mail) => mail.to === "approver2@fabrikam.com")!;
    const stale = await fetch(decisionLink(other, "Deny"));
    const html = await stale.text();
    expect(html).toContain("This request is approved");
    expect(html).toContain("Approved by Approver One");
  });

  it("denies through a Deny link, and tells the requester with the comment", async () => {
    const { requestId, mails } = await requestWithMail();
    const mine = mails.find((mail) => mail.to === "approver2@fabrikam.com")!;
    const result = await submitDecision(decisionLink(mine, "Deny"), "Not during the freeze");
    expect(result.html).toContain("Request denied");
    expect(await status(requestId)).toBe("DENIED");
    const [denied] = await env.smtp.messages(
      (mail) =>
        mail.to === "requester@fabrikam.com" && mail.subject.startsWith("Denied") && mail.text.includes("freeze"),
    );
    expect(denied?.text).toContain("Not during the freeze");
  });
});

describe("links that must not decide", () => {
  it("HEAD and GET change nothing, use no token and send nothing", async () => {
    const { requestId, mails } = await requestWithMail();
    const link = decisionLink(mails[0]!, "Approve");
    const sentBefore = env.smtp.received.length;
    for (const method of ["HEAD", "GET", "GET"]) {
      const response = await fetch(link, { method });
      expect(response.status).toBe(200);
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
      expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    }
    expect(await status(requestId)).toBe("PENDING");
    expect(await env.t.db.approvalToken.count({ where: { requestId: rawId(requestId), usedAt: { not: null } } })).toBe(
      0,
    );
    // Nothing was sent: the marker's mail, queued after the GETs, arrived, and nothing else did.
    const marker = await sendMarker();
    expect(
      env.smtp.received
        .slice(sentBefore)
        .map((mail) => mail.messageId)
        .sort(),
    ).toEqual(marker.messageIds.sort());
  });

  it("refuses tampered, truncated, unknown and cross-site submissions, changing nothing", async () => {
    const { requestId, mails } = await requestWithMail();
    const link = decisionLink(mails[0]!, "Approve");
    const token = link.split("/decide/")[1]!;
    const flipped = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    for (const bad of [flipped, token.slice(0, 20), `${token}x`, "x".repeat(43)]) {
      const response = await fetch(`${env.publicUrl}/decide/${bad}`);
      expect(response.status).toBe(404);
      const post = await fetch(`${env.publicUrl}/decide/${bad}`, { method: "POST", body: "csrf=x" });
      expect(post.status).toBe(404);
    }
    // A POST without the page's cookie (a forged cross-site form) is refused.
    const forged = await fetch(link, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "csrf=guess&comment=",
    });
    expect(forged.status).toBe(403);
    expect(await status(requestId)).toBe("PENDING");
  });

  it("refuses an expired link: the page offers no form, and a post from a page opened before decides nothing", async () => {
    const { requestId, mails } = await requestWithMail();
    const link = decisionLink(mails[0]!, "Approve");
    // The confirmation page was opened while the request still waited.
    const opened = await fetch(link);
    const csrf = (await opened.text()).match(/name="csrf" value="([^"]+)"/)![1]!;
    const cookie = opened.headers.get("set-cookie")!.split(";")[0]!;
    await env.t.db.accessRequest.update({
      where: { id: rawId(requestId) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const page = await (await fetch(link)).text();
    expect(page).toContain("This request has expired");
    expect(page).not.toContain("<form");
    const post = await fetch(link, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie, origin: env.publicUrl },
      body: new URLSearchParams({ csrf, comment: "too late" }).toString(),
    });
    expect(post.status).toBe(409);
    expect(await post.text()).toContain("This request has expired");
    expect(await status(requestId)).toBe("PENDING");
    expect(await env.t.db.accessDecision.count({ where: { requestId: rawId(requestId) } })).toBe(0);
    expect(await env.t.db.approvalToken.count({ where: { requestId: rawId(requestId), usedAt: { not: null } } })).toBe(
      0,
    );
  });

  it("decides once when the confirmation is posted many times at once, and shows who decided on reuse", async () => {
    const { requestId, mails } = await requestWithMail({ target: "Exchange\\Set-Mailbox" });
    const link = decisionLink(mails.find((mail) => mail.to === "approver1@fabrikam.com")!, "Approve");
    const page = await fetch(link);
    const csrf = (await page.text()).match(/name="csrf" value="([^"]+)"/)![1]!;
    const cookie = page.headers.get("set-cookie")!.split(";")[0]!;
    const posts = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetch(link, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", cookie },
          body: new URLSearchParams({ csrf, comment: "" }).toString(),
        }),
      ),
    );
    const decided = posts.filter((post) => post.status === 200);
    expect(decided).toHaveLength(1);
    const recorded = await decided[0]!.text();
    expect(recorded).toContain("<h1>Approval recorded</h1>");
    expect(recorded).toContain("<dt>Approvals</dt><dd>1 of 2</dd>");
    expect(recorded).toContain("<dt>Still needed</dt><dd>1 more approval</dd>");
    expect(await env.t.db.accessDecision.count({ where: { requestId: rawId(requestId) } })).toBe(1);
    // Quorum 2: one approval recorded, the request waits for the second approver.
    expect(await status(requestId)).toBe("PENDING");
    const reused = await (await fetch(link)).text();
    expect(reused).toContain("This link was already used");
    expect(reused).toContain("Approved by Approver One");
  });

  it("refuses an approver removed from the group after the mail went out", async () => {
    const { requestId, mails } = await requestWithMail();
    const group = await env.t.db.approverGroup.findFirstOrThrow({ where: { email: "pamapprovers@fabrikam.com" } });
    await env.t.as("admin@fabrikam.com", RemoveMembers, {
      input: { groupId: group.id, emails: ["approver2@fabrikam.com"] },
    });
    try {
      const result = await submitDecision(
        decisionLink(mails.find((mail) => mail.to === "approver2@fabrikam.com")!, "Approve"),
      );
      expect(result.status).toBe(403);
      expect(result.html).toContain("not an eligible member");
      expect(await status(requestId)).toBe("PENDING");
    } finally {
      await env.t.db.approverGroupMember.create({
        data: {
          groupId: group.id,
          organizationId: group.organizationId,
          userId: (await env.t.db.user.findFirstOrThrow({ where: { email: "approver2@fabrikam.com" } })).id,
        },
      });
    }
  });

  it("refuses a requester deciding their own request through a link", async () => {
    // Requesters are never mailed their own request; a link minted for one must still fail.
    const requestId = await createRequest(env.t, nextTarget(), { as: "approver1@fabrikam.com" });
    const request = await env.t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } });
    const tokens = await mintDecisionTokens(env.t.db, request, request.requesterId);
    const result = await submitDecision(`${env.publicUrl}/decide/${tokens.APPROVE}`);
    expect(result.status).toBe(403);
    expect(result.html).toContain("may not decide their own");
    expect(await status(requestId)).toBe("PENDING");
  });
});

describe("delivery", () => {
  it("retries with backoff while the SMTP server refuses, then delivers once", async () => {
    // Mail of earlier tests must not take the refusals meant for this request's.
    await mailSettled();
    const refusedBefore = env.smtp.refused.length;
    env.smtp.refuse(3);
    const requestId = await createRequest(env.t, nextTarget());
    const mails = await env.smtp.messages((mail) => mentions(mail, requestId), 2, 30_000);
    const refusals = env.smtp.refused.slice(refusedBefore);
    expect(refusals).toHaveLength(3);
    const rows = await env.t.db.emailMessage.findMany({ where: { requestId: rawId(requestId) } });
    expect(rows.map((row) => row.status)).toEqual(["SENT", "SENT"]);
    // Every message's job has completed: no attempt is left that could deliver it again.
    for (const row of rows) {
      expect(await env.runtime.queues.queue("sendMail").getJobState(jobTable.sendMail.jobId(row.id))).toBe("completed");
    }
    const all = env.smtp.received.filter((mail) => mails.some((found) => found.messageId === mail.messageId));
    expect(all).toHaveLength(2);
    // Backoff: each retry of a message came at least the queue's delay after its refusal,
    // doubling with each attempt (2 s, then 4 s). A lower bound only: a busy machine is later.
    const { delay } = jobTable.sendMail.options.backoff as { delay: number };
    for (const mail of all) {
      const attempts = [...refusals.filter((refusal) => refusal.messageId === mail.messageId), mail].map(
        (attempt) => attempt.at,
      );
      for (let retry = 1; retry < attempts.length; retry++) {
        expect(attempts[retry]! - attempts[retry - 1]!).toBeGreaterThanOrEqual(delay * 2 ** (retry - 1) - 50);
      }
    }
    // Three refusals over two messages: one of them was refused twice, and waited twice.
    expect(Math.max(...all.map((mail) => refusals.filter((r) => r.messageId === mail.messageId).length))).toBe(2);
    // Each refusal was one failed attempt of some queued message, retried until delivered.
    const failures = await env.t.db.emailMessage.aggregate({ _sum: { attempts: true } });
    expect(failures._sum.attempts).toBe(env.smtp.refusedCount());
    expect(await env.t.db.emailMessage.count({ where: { status: { not: "SENT" } } })).toBe(0);
  });

  it("re-sends outbox mail whose job was lost, through the reconciler", async () => {
    // A process that died between commit and enqueue: the outbox rows exist, no job does.
    const requester = await actorFor(env.t.db, "requester@fabrikam.com");
    const request = await createAccessRequest(contextFor(env.t.db, requester), {
      target: nextTarget(),
      reason: "lost job",
    });
    await env.t.db.emailMessage.updateMany({
      where: { requestId: request.id },
      data: { createdAt: new Date(Date.now() - 60_000) },
    });
    const reconciler = reconcilerFor(env.t.db, env.runtime.effects, env.runtime.queues);
    const report = await reconciler.runOnce();
    expect(report?.requeued?.mail).toBe(2);
    const globalId = encodeGlobalId("AccessRequest", request.id);
    const mails = await env.smtp.messages((mail) => mentions(mail, globalId), 2);
    expect(mails.map((mail) => mail.to).sort()).toEqual(["approver1@fabrikam.com", "approver2@fabrikam.com"]);
  });

  it("does not send an approval request that was decided before its mail went out", async () => {
    const requester = await actorFor(env.t.db, "requester@fabrikam.com");
    const approver = await actorFor(env.t.db, "approver2@fabrikam.com");
    const request = await createAccessRequest(contextFor(env.t.db, requester), {
      target: nextTarget(),
      reason: "quick",
    });
    await approveAccessRequest(contextFor(env.t.db, approver), { requestId: request.id });
    const [message] = await env.t.db.emailMessage.findMany({
      where: { requestId: request.id, template: "approval-needed" },
    });
    const sentBefore = env.smtp.received.length;
    const mailer = smtpMailer(env.smtp.url, "Elevate <elevate@test.example>");
    expect(await deliverMail({ db: env.t.db, mailer, publicUrl: env.publicUrl }, message!.id)).toBe("skipped");
    expect((await env.t.db.emailMessage.findUniqueOrThrow({ where: { id: message!.id } })).status).toBe("SKIPPED");
    expect(await env.t.db.approvalToken.count({ where: { requestId: request.id } })).toBe(0);
    expect(env.smtp.received.length).toBe(sentBefore);
  });
});
