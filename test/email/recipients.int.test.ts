import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AddMembers, ApproveRequest } from "../helpers/documents.ts";
import { createPolicy, createRequest, enableControl, rawId } from "../helpers/fixtures.ts";
import { type ReceivedMail, startMailingApp } from "../helpers/mail.ts";
import { waitFor } from "../helpers/processes.ts";

// Who an approval request is mailed to, as the SMTP server saw it: the eligible
// approvers of the group, never the requester, and never a GUEST or SERVICE member.

let env: Awaited<ReturnType<typeof startMailingApp>>;
beforeAll(async () => {
  env = await startMailingApp();
  await enableControl(env.t);
  await createPolicy(env.t, { type: "ROLE_GROUP", target: "Recipient Management", approvalType: "MANUAL" });
  const group = await env.t.db.approverGroup.findFirstOrThrow({ where: { email: "pamapprovers@fabrikam.com" } });
  // A guest, an enforcement service and a system account join the group; the requester is in it too.
  await env.t.as("admin@fabrikam.com", AddMembers, {
    input: { groupId: group.id, emails: ["guest@partner.example", "enforcer@fabrikam.com", "sys1@fabrikam.com"] },
  });
});
afterAll(() => env.close());

const about = (mail: ReceivedMail, requestId: string) => mail.text.includes(`/requests/${rawId(requestId)}`);

/** Waits until every message the request queued was handed to the SMTP server (or given up). */
async function allDelivered(requestId: string) {
  await waitFor("the request's mail to leave the outbox", async () => {
    const rows = await env.t.db.emailMessage.findMany({ where: { requestId: rawId(requestId) } });
    return rows.length > 0 && rows.every((row) => row.status !== "QUEUED");
  });
}

describe("approval mail", () => {
  it("reaches the eligible approvers only: not the requester, a guest, an enforcement service or a system account", async () => {
    const group = await env.t.db.approverGroup.findFirstOrThrow({
      where: { email: "pamapprovers@fabrikam.com" },
      include: { members: { include: { user: true } } },
    });
    expect(group.members.map((member) => member.user.email).sort()).toEqual([
      "approver1@fabrikam.com",
      "approver2@fabrikam.com",
      "enforcer@fabrikam.com",
      "guest@partner.example",
      "sys1@fabrikam.com",
    ]);
    // approver1 asks: of the group, only approver2 may decide.
    const requestId = await createRequest(env.t, "Exchange\\Set-Mailbox", { as: "approver1@fabrikam.com" });
    await allDelivered(requestId);
    const recipients = env.smtp.received.filter((mail) => about(mail, requestId)).map((mail) => mail.to);
    expect(recipients).toEqual(["approver2@fabrikam.com"]);
    expect(env.smtp.received.find((mail) => about(mail, requestId))?.subject).toMatch(/^Approval needed/);
  });
});

/** Waits until the mail queue holds no job: whatever was queued has reached the SMTP server or given up. */
async function mailSettled() {
  await waitFor("the mail queue to drain", async () => {
    const counts = await env.runtime.queues.queue("sendMail").getJobCounts("waiting", "active", "delayed");
    return Object.values(counts).every((count) => count === 0);
  });
}

describe("the decision mail", () => {
  it("reaches the requester once when 50 approvals race (RELIABILITY 1), counted at the SMTP server", async () => {
    const requestId = await createRequest(env.t, "Exchange\\Add-MailboxPermission");
    const tokens = [await env.t.tokenFor("approver1@fabrikam.com"), await env.t.tokenFor("approver2@fabrikam.com")];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        env.t.request(tokens[index % 2]!, ApproveRequest, { input: { requestId } }),
      ),
    );
    expect(results.filter((result) => result.data?.approveAccessRequest.__typename === "AccessRequest")).toHaveLength(
      1,
    );
    await waitFor("the requester's mail", async () =>
      env.smtp.received.some((mail) => mail.to === "requester@fabrikam.com" && about(mail, requestId)),
    );
    // Settled: a marker request's mail went through the same queue after it, and the queue is empty.
    const marker = await createRequest(env.t, "Exchange\\Remove-MailboxPermission");
    await waitFor("the marker's mail", async () => env.smtp.received.some((mail) => about(mail, marker)));
    await mailSettled();
    const toRequester = env.smtp.received.filter(
      (mail) => mail.to === "requester@fabrikam.com" && about(mail, requestId),
    );
    expect(toRequester.map((mail) => mail.subject)).toEqual([expect.stringMatching(/^Approved/)]);
  });
});
