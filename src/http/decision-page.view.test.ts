import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type DecisionConfirmPageInput,
  pageCss,
  pageCssHash,
  renderDecisionConfirmPage,
  renderDecisionDonePage,
  renderDecisionOutcomePage,
} from "./decision-page.view.ts";

const script = "<script>alert(1)</script>";

const confirmInput: DecisionConfirmPageInput = {
  orgName: "Contoso & Sons",
  decision: "APPROVE",
  request: {
    requesterName: `Ada ${script}`,
    requesterEmail: "ada@example.com",
    target: "Exchange <Admin>",
    type: "ROLE",
    scope: "OFFICE365",
    reason: `Incident 42\n${script}`,
    durationHours: 1,
    expiresAt: new Date("2026-11-26T14:00:00Z"),
  },
  approverName: 'Bob "the approver"',
  formAction: "/decisions/tok_123?x=1&y=2",
  csrfToken: 'csrf"><script>',
};

describe("renderDecisionConfirmPage", () => {
  it("is a mobile-friendly page styled only by the hashed stylesheet", () => {
    const html = renderDecisionConfirmPage(confirmInput);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain(`<style>${pageCss}</style>`);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/<script/i);
    expect(pageCssHash).toBe(`'sha256-${createHash("sha256").update(pageCss).digest("base64")}'`);
  });

  it("has one POST form with the csrf token, an optional comment and one submit button", () => {
    const html = renderDecisionConfirmPage(confirmInput);
    expect(html.match(/<form /g)).toHaveLength(1);
    expect(html).toContain('<form method="post" action="/decisions/tok_123?x=1&amp;y=2">');
    expect(html).toContain('<input type="hidden" name="csrf" value="csrf&quot;&gt;&lt;script&gt;">');
    expect(html).toContain('<textarea id="comment" name="comment" maxlength="2000"></textarea>');
    expect(html).not.toMatch(/<textarea[^>]*required/);
    expect(html.match(/<button /g)).toHaveLength(1);
    expect(html).toContain('<button type="submit" class="approve">Approve request</button>');
  });

  it("offers the deny button for a deny link", () => {
    const html = renderDecisionConfirmPage({ ...confirmInput, decision: "DENY" });
    expect(html).toContain('<button type="submit" class="deny">Deny request</button>');
    expect(html).toContain("<h1>Deny this request?</h1>");
    expect(html).not.toContain("Approve request");
  });

  it("escapes every value", () => {
    const html = renderDecisionConfirmPage(confirmInput);
    expect(html).not.toContain(script);
    expect(html).toContain("Ada &lt;script&gt;alert(1)&lt;/script&gt; &lt;ada@example.com&gt;");
    expect(html).toContain("Exchange &lt;Admin&gt;");
    expect(html).toContain("Bob &quot;the approver&quot;");
    expect(html).toContain("Contoso &amp; Sons");
    expect(html).toContain('<dd class="multiline">Incident 42\n&lt;script&gt;');
  });

  it("shows the request details", () => {
    const html = renderDecisionConfirmPage(confirmInput);
    for (const value of ["Role", "Office 365", "1 hour", "2026-11-26 14:00 UTC"]) {
      expect(html).toContain(`<dd>${value}`);
    }
  });

  it("accepts an absolute https form action", () => {
    const html = renderDecisionConfirmPage({ ...confirmInput, formAction: "https://elevate.example.com/d/x" });
    expect(html).toContain('action="https://elevate.example.com/d/x"');
  });

  it.each(["javascript:alert(1)", "//evil.example.com/x", "decisions/relative"])(
    "rejects the form action %s",
    (formAction) => {
      expect(() => renderDecisionConfirmPage({ ...confirmInput, formAction })).toThrow(/formAction/);
    },
  );
});

describe("renderDecisionOutcomePage", () => {
  it("escapes the title, message and details, formatting dates in UTC", () => {
    const html = renderDecisionOutcomePage({
      orgName: "Contoso & Sons",
      title: `Already decided ${script}`,
      message: `Bob <b>denied</b> it first.`,
      details: [
        { label: "Decided by", value: `Bob ${script}` },
        { label: "Decided at", value: new Date("2026-11-26T14:03:00Z") },
      ],
    });
    expect(html).not.toContain(script);
    expect(html).not.toContain("<b>");
    expect(html).toContain("<title>Already decided &lt;script&gt;alert(1)&lt;/script&gt; · Contoso &amp; Sons</title>");
    expect(html).toContain("<p>Bob &lt;b&gt;denied&lt;/b&gt; it first.</p>");
    expect(html).toContain("<dt>Decided by</dt><dd>Bob &lt;script&gt;");
    expect(html).toContain("<dt>Decided at</dt><dd>2026-11-26 14:03 UTC</dd>");
    expect(html).toContain('<meta name="viewport"');
  });

  it("has no form and no detail list when there are no details", () => {
    const html = renderDecisionOutcomePage({ orgName: "Contoso", title: "Link expired", message: "Ask again." });
    expect(html).toContain("<h1>Link expired</h1>");
    expect(html).not.toContain("<form");
    expect(html).not.toContain("<dl>");
  });
});

describe("renderDecisionDonePage", () => {
  const decided = {
    orgName: "Fabrikam",
    target: "Exchange\\New-MoveRequest",
    requesterName: "Regan Requester",
    requesterEmail: "requester@fabrikam.com",
    approvals: { given: 1, required: 1 },
    access: null,
  } as const;

  it("shows the access window an approval opened", () => {
    const html = renderDecisionDonePage({
      ...decided,
      status: "APPROVED",
      access: { startsAt: new Date("2026-11-26T14:00:00Z"), endsAt: new Date("2026-11-26T18:00:00Z") },
    });
    expect(html).toContain("<h1>Request approved</h1>");
    expect(html).toContain("<p>Access is granted until 2026-11-26 18:00 UTC. The requester has been told.</p>");
    expect(html).toContain("<dt>Request</dt><dd>Exchange\\New-MoveRequest</dd>");
    expect(html).toContain("<dt>Requester</dt><dd>Regan Requester &lt;requester@fabrikam.com&gt;</dd>");
    expect(html).toContain("<dt>Access from</dt><dd>2026-11-26 14:00 UTC</dd>");
    expect(html).toContain("<dt>Access until</dt><dd>2026-11-26 18:00 UTC</dd>");
  });

  it("says how many approvals remain while a quorum is incomplete", () => {
    const html = renderDecisionDonePage({ ...decided, status: "PENDING", approvals: { given: 1, required: 3 } });
    expect(html).toContain("<h1>Approval recorded</h1>");
    expect(html).toContain("<dt>Approvals</dt><dd>1 of 3</dd>");
    expect(html).toContain("<dt>Still needed</dt><dd>2 more approvals</dd>");
    expect(html).not.toContain("Access from");
  });

  it("says a denial granted nothing", () => {
    const html = renderDecisionDonePage({ ...decided, status: "DENIED" });
    expect(html).toContain("<h1>Request denied</h1>");
    expect(html).toContain("No access was granted");
    expect(html).not.toContain("Approvals");
  });
});
