import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchChromium } from "../helpers/chromium.ts";
import { createPolicy, createRequest, enableControl, rawId } from "../helpers/fixtures.ts";
import { decisionLink, startMailingApp } from "../helpers/mail.ts";

let env: Awaited<ReturnType<typeof startMailingApp>>;
let browser: Browser;
beforeAll(async () => {
  env = await startMailingApp();
  await enableControl(env.t);
  await createPolicy(env.t, { target: "Exchange\\New-MoveRequest", approvalType: "MANUAL" });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await env.close();
});

it("a real browser that opens the link and runs the page changes nothing until the button is clicked", async () => {
  const requestId = await createRequest(env.t, "Exchange\\New-MoveRequest");
  const [mail] = await env.smtp.messages(
    (candidate) =>
      candidate.to === "approver1@fabrikam.com" && candidate.text.includes(`/requests/${rawId(requestId)}`),
  );
  const link = decisionLink(mail!, "Approve");
  const token = () =>
    env.t.db.approvalToken.findFirstOrThrow({
      where: { requestId: rawId(requestId), approver: { email: "approver1@fabrikam.com" }, decision: "APPROVE" },
    });
  const status = async () =>
    (await env.t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } })).status;

  // Like a link scanner with a full browser: load the page, let it settle.
  const page = await browser.newPage();
  const violations: string[] = [];
  page.on("console", (message) => message.type() === "error" && violations.push(message.text()));
  await page.goto(link, { waitUntil: "networkidle" });
  expect(await page.locator("h1").textContent()).toBe("Approve this request?");
  expect(await page.locator("button[type=submit]").isVisible()).toBe(true);
  expect(violations).toEqual([]);
  await page.reload({ waitUntil: "networkidle" });
  expect(await status()).toBe("PENDING");
  expect((await token()).usedAt).toBeNull();

  // A person reads it, adds a comment and clicks.
  await page.fill("textarea[name=comment]", "Clicked in Chromium");
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  expect(await page.locator("h1").textContent()).toBe("Request approved");
  expect(await status()).toBe("APPROVED");
  expect((await token()).usedAt).not.toBeNull();
  const decision = await env.t.db.accessDecision.findFirstOrThrow({ where: { requestId: rawId(requestId) } });
  expect(decision).toMatchObject({ channel: "EMAIL", comment: "Clicked in Chromium", approved: true });
  await page.close();
});
