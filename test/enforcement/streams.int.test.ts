import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audience, issuer, type TestApp } from "../helpers/app.ts";
import { RemoveMembers } from "../helpers/documents.ts";
import { createPolicy, createRequest, enableControl, targetsOf } from "../helpers/fixtures.ts";
import { waitFor } from "../helpers/processes.ts";
import { devTokenFor } from "../helpers/tokens.ts";
import {
  isRefusal,
  listeningAfter,
  received,
  type Subscriber,
  startPublishingApp,
  subscribeSse,
  subscribeWs,
} from "../subscriptions/clients.ts";

// Issue 9, case 4: an open stream re-checks its subscriber. A demoted auditor stops
// receiving other people's events at once; a user who is gone loses the stream.

let t: TestApp;
let baseUrl: string;
let counting: Awaited<ReturnType<typeof startPublishingApp>>["counting"];
const open: Subscriber[] = [];
// Each request its own task: a requester keeps one open request per target.
const nextTarget = targetsOf("Recipient Management");

beforeAll(async () => {
  ({ t, baseUrl, counting } = await startPublishingApp());
  await enableControl(t);
  await createPolicy(t, { type: "ROLE_GROUP", target: "Recipient Management", approvalType: "MANUAL" });
});
afterAll(async () => {
  await Promise.all(open.map((subscriber) => subscriber.close()));
  t.app.server.close();
  await t.close();
});

async function newUser(): Promise<string> {
  const organization = await t.db.organization.findFirstOrThrow({ where: { name: "Fabrikam" } });
  const email = `temp-${randomUUID()}@fabrikam.com`;
  await t.db.user.create({
    data: {
      organizationId: organization.id,
      email,
      displayName: "Temporary",
      subject: randomUUID(),
      roles: ["AUDITOR"],
    },
  });
  return email;
}

describe("open subscriptions", () => {
  it("stop delivering other people's events to an auditor the moment the role is gone", async () => {
    const token = await t.tokenFor("auditor@fabrikam.com");
    const auditor = await listeningAfter(counting, () => subscribeWs(baseUrl, { authorization: `Bearer ${token}` }));
    open.push(auditor);
    const before = await createRequest(t, nextTarget());
    await waitFor("the auditor's event", async () => auditor.events.length >= 1);

    await t.db.user.updateMany({ where: { email: "auditor@fabrikam.com" }, data: { roles: [] } });
    const after = await createRequest(t, nextTarget());
    // A request of the auditor's own still reaches them, and arrives after the one above was judged.
    const own = await createRequest(t, nextTarget(), { as: "auditor@fabrikam.com" });
    await waitFor("the auditor's own event", async () => auditor.events.some((event) => event.requestId === own));
    expect(received(auditor)).toEqual([`CREATED ${before}`, `CREATED ${own}`]);
    expect(auditor.events.some((event) => event.requestId === after)).toBe(false);
    expect(auditor.errors).toEqual([]);
  });

  it("stop delivering a group's events to an approver the moment they leave the group", async () => {
    const token = await t.tokenFor("approver2@fabrikam.com");
    const approver = await listeningAfter(counting, () => subscribeWs(baseUrl, { authorization: `Bearer ${token}` }));
    open.push(approver);
    const before = await createRequest(t, nextTarget());
    await waitFor("the approver's event", async () => approver.events.some((event) => event.requestId === before));

    const group = await t.db.approverGroup.findFirstOrThrow({ where: { email: "pamapprovers@fabrikam.com" } });
    await t.as("admin@fabrikam.com", RemoveMembers, {
      input: { groupId: group.id, emails: ["approver2@fabrikam.com"] },
    });
    const after = await createRequest(t, nextTarget());
    // The approver's own request still reaches them, and arrives after the one above was judged.
    const own = await createRequest(t, nextTarget(), { as: "approver2@fabrikam.com" });
    await waitFor("the approver's own event", async () => approver.events.some((event) => event.requestId === own));
    expect(received(approver)).toEqual([`CREATED ${before}`, `CREATED ${own}`]);
    expect(approver.events.some((event) => event.requestId === after)).toBe(false);
    // Not even an error: the stream says nothing about a request the approver may no longer see.
    expect(approver.errors).toEqual([]);
  });

  it("end when the subscriber's user is deleted, at the next event", async () => {
    const email = await newUser();
    const token = await devTokenFor(t.db, t.key, email, { issuer, audience });
    const subscriber = await listeningAfter(counting, () => subscribeSse(baseUrl, token));
    if (isRefusal(subscriber)) throw new Error(subscriber.body);
    open.push(subscriber);
    await t.db.user.deleteMany({ where: { email } });
    await createRequest(t, nextTarget());
    expect(await subscriber.ended).toMatchObject({ reason: "complete" });
    expect(subscriber.events).toEqual([]);
  });

  it("end when the subscriber's user is deleted while no events flow", async () => {
    const email = await newUser();
    const token = await devTokenFor(t.db, t.key, email, { issuer, audience });
    const subscriber = await listeningAfter(counting, () => subscribeWs(baseUrl, { authorization: `Bearer ${token}` }));
    open.push(subscriber);
    await t.db.user.deleteMany({ where: { email } });
    // Checked on an interval of a few seconds: the stream completes without any event.
    await waitFor("the idle stream to end", async () => subscriber.isEnded(), { timeoutMs: 20_000 });
    expect(subscriber.events).toEqual([]);
  });
});
