import { describe, expect, it } from "vitest";
import { compileAllTemplates, renderEmail } from "./render.ts";
import { type TemplateName, type TemplateVars, templateNames } from "./templates.ts";

const script = "<script>alert(1)</script>";
const branding = { orgName: "Contoso & Sons", publicUrl: "https://elevate.example.com" };
const access = { target: "Exchange <Admin>", type: "ROLE_GROUP", scope: "EXCHANGE" } as const;
const requestUrl = "https://elevate.example.com/requests/0192";

const samples: { [N in TemplateName]: TemplateVars<N> } = {
  "approval-needed": {
    ...branding,
    ...access,
    approverName: "Bob Approver",
    requesterName: "Ada Lovelace",
    requesterEmail: "ada@example.com",
    reason: `Incident 42: mailbox repair\n${script}`,
    durationHours: 4,
    expiresAt: new Date("2026-11-26T14:00:00Z"),
    approveUrl: "https://elevate.example.com/decide/approve?token=abc&x=1",
    denyUrl: "https://elevate.example.com/decide/deny?token=def",
    requestUrl,
  },
  "approval-reminder": {
    ...branding,
    ...access,
    approverName: "Bob Approver",
    requesterName: "Ada Lovelace",
    requesterEmail: "ada@example.com",
    reason: "Incident 42",
    durationHours: 4,
    expiresAt: new Date("2026-11-26T14:00:00Z"),
    approveUrl: "https://elevate.example.com/decide/approve?token=abc",
    denyUrl: "https://elevate.example.com/decide/deny?token=def",
    requestUrl,
  },
  "approval-escalated": {
    ...branding,
    ...access,
    approverName: "Carol Escalation",
    requesterName: "Ada Lovelace",
    requesterEmail: "ada@example.com",
    reason: "Incident 42",
    durationHours: 4,
    expiresAt: new Date("2026-11-26T14:00:00Z"),
    approveUrl: "https://elevate.example.com/decide/approve?token=abc",
    denyUrl: "https://elevate.example.com/decide/deny?token=def",
    requestUrl,
  },
  "request-approved": {
    ...branding,
    ...access,
    requesterName: "Ada Lovelace",
    startsAt: new Date("2026-11-26T14:00:00Z"),
    endsAt: new Date("2026-11-26T18:30:00Z"),
    requestedHours: 4,
    grantedHours: 4,
    requestUrl,
  },
  "request-denied": {
    ...branding,
    ...access,
    requesterName: "Ada Lovelace",
    deniedByName: "Bob Approver",
    comment: `Not during the freeze ${script}`,
    requestUrl,
  },
  "request-expired": {
    ...branding,
    ...access,
    requesterName: "Ada Lovelace",
    expiredAt: new Date("2026-11-27T02:05:00Z"),
    requestUrl,
  },
  "access-revoked": {
    ...branding,
    ...access,
    requesterName: "Ada Lovelace",
    revokedByName: "Carol Admin",
    revokedAt: new Date("2026-11-26T15:10:00Z"),
    comment: `Done early ${script}`,
    requestUrl,
  },
  "access-ended": {
    ...branding,
    ...access,
    requesterName: "Ada Lovelace",
    endedAt: new Date("2026-11-26T18:00:00Z"),
    requestUrl,
  },
  "access-extended": {
    ...branding,
    ...access,
    requesterName: "Ada Lovelace",
    durationHours: 2,
    endsAt: new Date("2026-11-26T20:00:00Z"),
    requestUrl,
  },
  "access-expiring": {
    ...branding,
    ...access,
    requesterName: "Ada Lovelace",
    requestId: "0192",
    endsAt: new Date("2026-11-26T20:00:00Z"),
    requestUrl,
  },
  "webhook-disabled": {
    ...branding,
    adminName: "Carol Admin",
    url: "https://hooks.example.com/elevate?a=1&b=<2>",
    failures: 5,
    disabledAt: new Date("2026-11-26T18:00:00Z"),
    lastError: `HTTP 500 ${script}`,
  },
};

/** The templates about a request: each shows the requested access and links to the request. */
const requestTemplates = templateNames.filter((name) => name !== "webhook-disabled");

function render<N extends TemplateName>(name: N, overrides: Partial<TemplateVars<N>> = {}) {
  return renderEmail(name, { ...samples[name], ...overrides });
}

describe("compileAllTemplates", () => {
  it("compiles every template in strict MJML validation", async () => {
    await expect(compileAllTemplates()).resolves.toBeUndefined();
  });
});

describe.each(requestTemplates)("%s", (name) => {
  it("fills every placeholder and escapes values in the HTML", async () => {
    const { html } = await render(name);
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).not.toContain("{{");
    expect(html).not.toContain("}}");
    expect(html).toContain("Contoso &amp; Sons");
    expect(html).toContain("Exchange &lt;Admin&gt;");
    expect(html).not.toContain("<Admin>");
    expect(html).toContain(`href="${requestUrl}"`);
    expect(html).toContain('href="https://elevate.example.com/"');
    expect(html).not.toContain("fonts.googleapis.com");
  });

  it("keeps subject and text plain", async () => {
    const { subject, text } = await render(name);
    expect(subject).toContain("Exchange <Admin>");
    expect(subject).not.toMatch(/&[a-z]+;|\n/);
    expect(text).toContain("Exchange <Admin>");
    expect(text).toContain("Role group");
    expect(text).toContain("Contoso & Sons");
    expect(text).toContain("https://elevate.example.com");
    expect(text).not.toMatch(/&(amp|lt|gt|quot|#39);|<(br|strong|a|p|t[dhr])\b/);
  });

  it("rejects a non-http URL", async () => {
    await expect(render(name, { requestUrl: "javascript:alert(1)" })).rejects.toThrow(/absolute http\(s\) URL/);
  });
});

describe("approval-needed", () => {
  it("shows the reason as text, never as markup", async () => {
    const { html, text } = await render("approval-needed");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toContain(script);
    expect(text).toContain(script);
  });

  it("quotes a reason that plants its own links, so only the message's own lines read as links", async () => {
    const planted = "Urgent\n\nApprove: https://evil.example/phish\nDeny: https://evil.example/phish";
    const { text } = await renderEmail("approval-needed", { ...samples["approval-needed"], reason: planted });
    const linkLines = text.split("\n").filter((line) => /^(Approve|Deny):/.test(line));
    expect(linkLines).toEqual([
      "Approve: https://elevate.example.com/decide/approve?token=abc&x=1",
      "Deny:    https://elevate.example.com/decide/deny?token=def",
    ]);
    expect(text).toContain("> Approve: https://evil.example/phish");
  });

  it("links the approve and deny buttons, escaped for the attribute", async () => {
    const { html, text } = await render("approval-needed");
    expect(html).toContain('href="https://elevate.example.com/decide/approve?token=abc&amp;x=1"');
    expect(html).toContain('href="https://elevate.example.com/decide/deny?token=def"');
    expect(text).toContain("Approve: https://elevate.example.com/decide/approve?token=abc&x=1");
    expect(text).toContain("Deny:    https://elevate.example.com/decide/deny?token=def");
  });

  it("contains the request details in both parts", async () => {
    const { subject, html, text } = await render("approval-needed");
    expect(subject).toBe("Approval needed: Ada Lovelace requests Exchange <Admin>");
    for (const part of [html, text]) {
      expect(part).toContain("Bob Approver");
      expect(part).toContain("Ada Lovelace");
      expect(part).toContain("ada@example.com");
      expect(part).toContain("Exchange");
      expect(part).toContain("4 hours");
      expect(part).toContain("2026-11-26 14:00 UTC");
    }
    // What the requester typed is quoted line by line: no line of it reads as one of the message's own.
    expect(text).toContain("Reason:    > Incident 42: mailbox repair\n           > <script>");
    expect(text).toContain(`View the request: ${requestUrl}`);
  });

  it("does not leak a rejected decision URL into the error", async () => {
    const error = await render("approval-needed", { approveUrl: "data:text/html,secret-token" }).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String(error.message)).not.toContain("secret-token");
  });
});

describe("requester notifications", () => {
  it("shows the access window when approved", async () => {
    const { subject, html, text } = await render("request-approved");
    expect(subject).toBe("Approved: your access to Exchange <Admin>");
    for (const part of [html, text]) {
      expect(part).toContain("2026-11-26 14:00 UTC");
      expect(part).toContain("2026-11-26 18:30 UTC");
    }
  });

  it("shows who denied and the escaped comment", async () => {
    const { html, text } = await render("request-denied");
    expect(html).toContain("Bob Approver");
    expect(html).toContain("Not during the freeze &lt;script&gt;");
    expect(html).not.toContain(script);
    expect(text).toContain(`Comment:   > Not during the freeze ${script}`);
  });

  it("says so when a denial has no comment", async () => {
    const { html, text } = await render("request-denied", { comment: undefined });
    expect(html).toContain("No comment was given.");
    expect(text).toContain("No comment was given.");
  });

  it("shows who revoked, when, and the comment", async () => {
    const { html, text } = await render("access-revoked");
    for (const part of [html, text]) {
      expect(part).toContain("Carol Admin");
      expect(part).toContain("2026-11-26 15:10 UTC");
    }
    expect(html).toContain("Done early &lt;script&gt;");
    expect(text).toContain(`Done early ${script}`);
  });

  it("tells when the request expired and the access ended", async () => {
    expect((await render("request-expired")).text).toContain("2026-11-27 02:05 UTC");
    expect((await render("access-ended")).text).toContain("2026-11-26 18:00 UTC");
  });

  it("tells a grantee who ended their access early when, and quotes their reason", async () => {
    const { html, text } = await render("access-ended", { endedEarly: { reason: `Work done ${script}` } });
    expect(text).toContain("You ended your access early, at 2026-11-26 18:00 UTC.");
    expect(text).toContain(`Reason:    > Work done ${script}`);
    expect(html).toContain("Your reason: Work done &lt;script&gt;");
    expect((await render("access-ended")).text).toContain("Your access window ended at 2026-11-26 18:00 UTC.");
  });

  it("shows the ticket a request carries to its approvers and its requester, and None when it has none", async () => {
    const asked = await render("approval-needed", { ticket: "INC<0042>" });
    expect(asked.text).toContain("Ticket:    INC<0042>");
    expect(asked.html).toContain("INC&lt;0042&gt;");
    expect((await render("request-approved", { ticket: "INC0042" })).text).toContain("Ticket:    INC0042");
    const none = await render("approval-needed");
    expect(none.text).not.toContain("Ticket:");
    expect(none.html).toMatch(/<th[^>]*>Ticket<\/th>\s*<td[^>]*>None<\/td>/);
  });

  it("tells approvers an extension from a new request, and the grantee the new end", async () => {
    const asked = await render("approval-needed", { extendsAccessEndingAt: new Date("2026-11-26T18:00:00Z") });
    expect(asked.subject).toBe("Approval needed: Ada Lovelace asks to extend Exchange <Admin>");
    expect(asked.text).toContain("Request:   Extension by 4 hours of access that now ends at 2026-11-26 18:00 UTC");
    expect((await render("approval-needed")).text).toContain("Request:   New access");
    const extended = await render("access-extended");
    expect(extended.subject).toBe("Extended: your access to Exchange <Admin> until 2026-11-26 20:00 UTC");
    expect(extended.text).toContain("Your access was extended by 2 hours. It now ends at 2026-11-26 20:00 UTC.");
  });

  it("tells the requester when an approver shortened the access, in the subject and the body", async () => {
    const shorter = await render("request-approved", { grantedHours: 1 });
    expect(shorter.subject).toBe("Approved for 1 hour: your access to Exchange <Admin>");
    expect(shorter.text).toContain("You asked for 4 hours; the approver shortened it to 1 hour.");
    expect(shorter.html).toContain("You asked for 4 hours; the approver shortened it to 1 hour.");
    const asAsked = await render("request-approved");
    expect(asAsked.subject).toBe("Approved: your access to Exchange <Admin>");
    expect(asAsked.text).toContain("Approved for the 4 hours you asked for.");
  });

  it("folds line breaks out of the subject", async () => {
    const { subject } = await render("access-ended", { target: "Mailbox\r\nBcc: someone@example.com" });
    expect(subject).toBe("Ended: your access to Mailbox Bcc: someone@example.com");
  });
});

describe("webhook-disabled", () => {
  it("names the endpoint, the run of failures and the last error, escaped in the HTML and plain in the text", async () => {
    const { subject, html, text } = await render("webhook-disabled");
    expect(subject).toBe("Webhook endpoint disabled: https://hooks.example.com/elevate?a=1&b=<2>");
    expect(html).not.toContain("{{");
    expect(html).toContain("https://hooks.example.com/elevate?a=1&amp;b=&lt;2&gt;");
    expect(html).toContain("&lt;script&gt;");
    expect(html).not.toContain(script);
    expect(html).toContain("<strong>5</strong>");
    expect(text).toContain("after 5 deliveries in a row failed");
    expect(text).toContain(`> HTTP 500 ${script}`);
    expect(text).toContain("replayWebhookDelivery");
  });
});
