// The mail rendering part of `npm run bench`.
import { renderEmail } from "../../src/email/render.ts";
import { quick, row } from "./common.ts";

/** MJML templates are compiled once; this is filling them in, on this process's one core. */
export async function benchMail() {
  const vars = {
    orgName: "Fabrikam",
    publicUrl: "https://elevate.example.com",
    target: "Move Mailboxes",
    type: "ROLE",
    scope: "EXCHANGE",
    approverName: "Approver One",
    requesterName: "Regan Requester",
    requesterEmail: "requester@fabrikam.com",
    reason: "Customer escalation 4711",
    durationHours: 4,
    expiresAt: new Date(),
    approveUrl: "https://elevate.example.com/decide/approve?token=abc",
    denyUrl: "https://elevate.example.com/decide/deny?token=def",
    requestUrl: "https://elevate.example.com/requests/1",
  } as const;
  await renderEmail("approval-needed", vars);
  const durationMs = quick ? 2_000 : 10_000;
  const started = performance.now();
  let rendered = 0;
  while (performance.now() - started < durationMs) {
    for (let i = 0; i < 100; i++) await renderEmail("approval-needed", { ...vars, approverName: `Approver ${i}` });
    rendered += 100;
  }
  const perSecond = rendered / ((performance.now() - started) / 1000);
  row(
    "mail rendering (approval-needed, one core)",
    "≥ 1,000 messages/s",
    `${Math.round(perSecond)} messages/s`,
    perSecond >= 1000,
  );
}
