import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/client.ts";
import { graphql } from "../graphql/index.ts";
import { EnableControl } from "../helpers/documents.ts";
import { rawId } from "../helpers/fixtures.ts";
import { startTestIdp, type TestIdp } from "../helpers/idp.ts";
import { decisionLink, type SmtpServer } from "../helpers/mail.ts";
import { type MailingApi, startMailingApi } from "../helpers/mailing-api.ts";
import { expectType } from "../subscriptions/clients.ts";

// Issue 17, step-up at decision: approvers of a policy that requires MFA (or of every
// policy, once the organization says so) decide only with a token whose amr shows it.
// The API runs as its own process (jobs in it) against the in-process OpenID provider,
// mail goes to a real SMTP server, and every token comes from the provider's sign-in,
// with and without the MFA box ticked.

const StepUpPolicy = graphql(`
  mutation StepUpPolicy($input: CreateApprovalPolicyInput!) {
    createApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy {
        id
        requireMfa
      }
      ...ErrorFields
    }
  }
`);

const StepUpControl = graphql(`
  mutation StepUpControl($input: UpdateElevatedAccessControlInput!) {
    updateElevatedAccessControl(input: $input) {
      __typename
      ... on ElevatedAccessControl {
        requireMfaForDecisions
        mfaAcrValues
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const StepUpFile = graphql(`
  mutation StepUpFile($input: CreateAccessRequestInput!) {
    createAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        id
        identity
        status
        requireMfa
      }
      ...ErrorFields
    }
  }
`);

const StepUpApprove = graphql(`
  mutation StepUpApprove($input: DecideAccessRequestInput!) {
    approveAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        status
        requireMfa
        decisions {
          approver {
            email
          }
          channel
          authenticationMethods
          authenticationContext
        }
      }
      ...ErrorFields
      ... on StepUpRequiredError {
        field
      }
    }
  }
`);

const StepUpAudit = graphql(`
  query StepUpAudit {
    auditEvents(first: 100, order: NEWEST_FIRST) {
      edges {
        node {
          action
          details
        }
      }
    }
    verifyAuditLog {
      ok
    }
  }
`);

let idp: TestIdp;
let session: MailingApi;
let smtp: SmtpServer;
let db: Db;
const subjects = new Map<string, string>();

/** A fresh sign-in at the provider, with or without multi-factor authentication. */
async function signIn(email: string, mfa = false): Promise<string> {
  return (await idp.signIn(subjects.get(email)!, { mfa })).access_token;
}

const as: MailingApi["withToken"] = (token, document, variables) => session.withToken(token, document, variables);

const approvalMailFor = (to: string, requestId: string) =>
  smtp.messages((mail) => mail.to === to && mail.text.includes(`/requests/${requestId}`));

beforeAll(async () => {
  idp = await startTestIdp({ audience: "api://elevate-test" });
  session = await startMailingApi("step-up", {
    JWKS_URL: idp.jwksUrl,
    JWT_ISSUER: idp.issuer,
    JWT_AUDIENCE: idp.audience,
  });
  ({ smtp, db } = session);
  for (const email of ["admin", "approver1", "approver2", "requester"].map((name) => `${name}@fabrikam.com`)) {
    const user = await db.user.findFirstOrThrow({ where: { email }, include: { organization: true } });
    subjects.set(email, user.subject!);
    idp.addAccount({ subject: user.subject!, tenantId: user.organization.tenantId, email });
  }
  const admin = await signIn("admin@fabrikam.com");
  expectType(
    (await as(admin, EnableControl, { input: { adminGroup: "pamapprovers@fabrikam.com" } }))
      .enableElevatedAccessControl,
    "ElevatedAccessControl",
  );
});

afterAll(async () => {
  await session?.close();
  await idp?.close();
});

describe("step-up at decision", () => {
  it("refuses a decision without MFA on a policy that requires it, and counts one with it", async () => {
    const admin = await signIn("admin@fabrikam.com");
    const policy = expectType(
      (
        await as(admin, StepUpPolicy, {
          input: { target: "Exchange\\New-MoveRequest", approvalType: "MANUAL", requireMfa: true },
        })
      ).createApprovalPolicy,
      "ApprovalPolicy",
    );
    expect(policy.requireMfa).toBe(true);
    const request = expectType(
      (
        await as(await signIn("requester@fabrikam.com"), StepUpFile, {
          input: { target: "Exchange\\New-MoveRequest", reason: "Mailbox move for the finance team" },
        })
      ).createAccessRequest,
      "AccessRequest",
    );
    expect(request.requireMfa).toBe(true);

    // The mail carries no decision link at all: its buttons open the request, behind the sign-in.
    const [mail] = await approvalMailFor("approver1@fabrikam.com", request.identity);
    expect(mail!.text).not.toContain("/decide/");
    expect(mail!.html).not.toContain("/decide/");
    expect(mail!.text).toContain(`Approve: ${session.api.url}/requests/${request.identity}`);
    expect(mail!.text).toContain("signed in with multi-factor authentication");

    const withoutMfa = await as(await signIn("approver1@fabrikam.com"), StepUpApprove, {
      input: { requestId: request.id, comment: "looks fine" },
    });
    const refused = expectType(withoutMfa.approveAccessRequest, "StepUpRequiredError");
    expect(refused).toMatchObject({ code: "STEP_UP_REQUIRED", field: "authentication" });
    expect(refused.message).toContain("multi-factor");
    expect(await db.accessDecision.count({ where: { requestId: rawId(request.id) } })).toBe(0);
    expect((await db.accessRequest.findUniqueOrThrow({ where: { id: rawId(request.id) } })).status).toBe("PENDING");

    const withMfa = await as(await signIn("approver1@fabrikam.com", true), StepUpApprove, {
      input: { requestId: request.id, comment: "looks fine" },
    });
    const approved = expectType(withMfa.approveAccessRequest, "AccessRequest");
    expect(approved.status).toBe("APPROVED");
    expect(approved.decisions).toEqual([
      {
        approver: { email: "approver1@fabrikam.com" },
        channel: "API",
        authenticationMethods: ["pwd", "mfa"],
        authenticationContext: null,
      },
    ]);

    const { auditEvents, verifyAuditLog } = await as(admin, StepUpAudit);
    const events = auditEvents.edges.map(({ node }) => node);
    expect(events.find((event) => event.action === "New-ElevatedAccessApprovalPolicy")?.details).toMatchObject({
      requireMfa: true,
    });
    expect(events.find((event) => event.action === "Approve-ElevatedAccessRequest")?.details).toMatchObject({
      channel: "API",
      amr: ["pwd", "mfa"],
      acr: null,
    });
    expect(verifyAuditLog.ok).toBe(true);
  });

  it("turns step-up on for every policy: a link mailed before then cannot decide, a sign-in with MFA can", async () => {
    const admin = await signIn("admin@fabrikam.com");
    expectType(
      (await as(admin, StepUpPolicy, { input: { target: "Exchange\\Set-Mailbox", approvalType: "MANUAL" } }))
        .createApprovalPolicy,
      "ApprovalPolicy",
    );
    const request = expectType(
      (
        await as(await signIn("requester@fabrikam.com"), StepUpFile, {
          input: { target: "Exchange\\Set-Mailbox", reason: "Fix a mailbox quota" },
        })
      ).createAccessRequest,
      "AccessRequest",
    );
    expect(request.requireMfa).toBe(false);
    const [mail] = await approvalMailFor("approver2@fabrikam.com", request.identity);
    const link = decisionLink(mail!, "Approve");

    const refusedSetting = expectType(
      (await as(admin, StepUpControl, { input: { mfaAcrValues: ["x".repeat(129)] } })).updateElevatedAccessControl,
      "ValidationError",
    );
    expect(refusedSetting.field).toBe("mfaAcrValues.0");
    const control = expectType(
      (await as(admin, StepUpControl, { input: { requireMfaForDecisions: true, mfaAcrValues: ["c2"] } }))
        .updateElevatedAccessControl,
      "ElevatedAccessControl",
    );
    expect(control).toMatchObject({ requireMfaForDecisions: true, mfaAcrValues: ["c2"] });

    // The page has no form: it sends the approver to sign in, in the console.
    const page = await fetch(link);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain("Sign in to decide");
    expect(html).not.toContain("<form");
    expect(html).toContain(`href="${session.api.url}/requests/${request.identity}"`);
    // Even a well-formed post (form token and cookie agreeing) decides nothing.
    const post = await fetch(link, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: "elevate_decide_csrf=forged-but-matching",
        origin: new URL(link).origin,
      },
      body: new URLSearchParams({ csrf: "forged-but-matching", comment: "" }).toString(),
    });
    expect(post.status).toBe(403);
    expect(await post.text()).toContain("Sign in to decide");
    expect(await db.accessDecision.count({ where: { requestId: rawId(request.id) } })).toBe(0);
    expect(await db.approvalToken.count({ where: { requestId: rawId(request.id), usedAt: { not: null } } })).toBe(0);

    const refused = await as(await signIn("approver2@fabrikam.com"), StepUpApprove, {
      input: { requestId: request.id },
    });
    expect(expectType(refused.approveAccessRequest, "StepUpRequiredError").message).toContain("acr of c2");

    const approved = expectType(
      (await as(await signIn("approver2@fabrikam.com", true), StepUpApprove, { input: { requestId: request.id } }))
        .approveAccessRequest,
      "AccessRequest",
    );
    expect(approved).toMatchObject({ status: "APPROVED", requireMfa: true });
    expect(approved.decisions[0]?.authenticationMethods).toEqual(["pwd", "mfa"]);

    const { auditEvents } = await as(admin, StepUpAudit);
    expect(
      auditEvents.edges.find(({ node }) => node.action === "Set-ElevatedAccessControl")?.node.details,
    ).toMatchObject({
      requireMfaForDecisions: { from: false, to: true },
      mfaAcrValues: { from: [], to: ["c2"] },
    });
  });
});
