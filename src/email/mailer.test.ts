import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { devMailbox } from "./mailer.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("the dev mailbox", () => {
  it("never shows a reader a half-written message", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "elevate-dev-mailbox-"));
    dirs.push(dir);
    const mailbox = devMailbox(dir, "elevate@example.com", async () => "db");
    // A large message takes many writes; the /dev/mail page lists the folder meanwhile.
    const html = "x".repeat(32 * 1024 * 1024);
    let sent = false;
    const sending = mailbox
      .send({ to: "a@example.com", subject: "big", html, text: "big", messageId: "m-1" })
      .finally(() => {
        sent = true;
      });
    let listings = 0;
    while (!sent) {
      await mailbox.list();
      listings += 1;
    }
    await sending;
    const messages = await mailbox.list();
    expect(messages.map((message) => message.subject)).toEqual(["big"]);
    expect(listings).toBeGreaterThan(0);
  });
});
