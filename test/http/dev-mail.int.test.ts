import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { devMailbox } from "../../src/email/mailer.ts";
import { jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, spawnApi, waitFor } from "../helpers/processes.ts";
import { redisUrl } from "../setup/test-env.ts";

// The dev mailbox as a developer meets it: `npm start` without SMTP_URL, its worker
// rendering mail into DEV_MAILBOX_DIR, /dev/mail listing it.

const queuePrefix = uniquePrefix("dev-mail");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);
// What the spawned API uses (test/helpers/processes.ts).
const mailDir = path.join(tmpdir(), `elevate-test-mail-${queuePrefix}`);
let api: ApiProcess;

async function graphql(email: string, query: string): Promise<unknown> {
  const token = await fetch(`${api.url}/dev/token`, { method: "POST", body: JSON.stringify({ as: email }) });
  const { access_token } = (await token.json()) as { access_token: string };
  const response = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  return response.json();
}

beforeAll(async () => {
  await loadOrCreateDevIssuerKey(keyFile);
  api = await spawnApi({ redisUrl, queuePrefix, devIssuerKeyFile: keyFile, worker: true });
});

afterAll(async () => {
  await api?.stop();
  await (await jobClient(redisUrl, queuePrefix)).close();
});

it("lists each message with its request's target, reason and time, fit for a phone", async () => {
  await graphql(
    "admin@fabrikam.com",
    'mutation { enableElevatedAccessControl(input: { adminGroup: "pamapprovers@fabrikam.com" }) { __typename } }',
  );
  await graphql(
    "admin@fabrikam.com",
    'mutation { createApprovalPolicy(input: { target: "Exchange\\\\New-MoveRequest", approvalType: MANUAL }) { __typename } }',
  );
  const created = (await graphql(
    "requester@fabrikam.com",
    'mutation { createAccessRequest(input: { target: "Exchange\\\\New-MoveRequest", reason: "Move the <CEO> mailbox" }) { ... on AccessRequest { createdAt } } }',
  )) as { data: { createAccessRequest: { createdAt: string } } };
  const requestedAt = created.data.createAccessRequest.createdAt;

  const page = await waitFor("both approvers' messages on /dev/mail", async () => {
    const html = await (await fetch(`${api.url}/dev/mail`)).text();
    return html.match(/<tr><td>/g)?.length === 2 && html;
  });

  expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  expect(page).toContain("<p>2 message(s).");
  const rows = page.match(/<tr><td>.*<\/tr>/g)!;
  expect(rows.map((row) => row.match(/<td>([^<]+@fabrikam\.com)<\/td>/)?.[1]).sort()).toEqual([
    "approver1@fabrikam.com",
    "approver2@fabrikam.com",
  ]);
  const minute = `${requestedAt.slice(0, 10)} ${requestedAt.slice(11, 16)} UTC`;
  for (const row of rows) {
    expect(row).toContain(
      `<td>Exchange\\New-MoveRequest <span class="reason">Move the &lt;CEO&gt; mailbox</span><br>requested ${minute}</td>`,
    );
  }
  expect(page).not.toContain("earlier database");
});

it("sets apart the messages of an earlier database, whose links no longer work", async () => {
  // What the same folder holds after the database was dropped and seeded anew.
  const before = devMailbox(mailDir, "Elevate <elevate@localhost>", async () => "a dropped database");
  await before.send({
    to: "approver1@fabrikam.com",
    subject: "Approval needed: Exchange\\Set-Mailbox",
    html: "<p>old</p>",
    text: "old",
    messageId: "earlier-1",
    about: { target: "Exchange\\Set-Mailbox", reason: "Old reason", requestedAt: new Date("2026-01-01T10:00:00Z") },
  });

  const html = await (await fetch(`${api.url}/dev/mail`)).text();
  expect(html).toContain("<p>2 message(s).");
  const earlier = html.slice(html.indexOf("<details>"));
  expect(earlier).toContain("<summary>1 message(s) of an earlier database: their links may no longer work</summary>");
  expect(earlier).toContain("Old reason");
  expect(html.slice(0, html.indexOf("<details>"))).not.toContain("Old reason");
});
