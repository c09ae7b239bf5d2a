import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { audience, issuer, type TestApp } from "../helpers/app.ts";
import { RevokeAuthorization } from "../helpers/documents.ts";
import { approve, createPolicy, createRequest, enableControl, targetsOf } from "../helpers/fixtures.ts";
import { waitFor } from "../helpers/processes.ts";
import { devTokenFor } from "../helpers/tokens.ts";
import {
  expectType,
  isRefusal,
  listeningAfter,
  received,
  type Subscriber,
  startPublishingApp,
  subscribeSse,
  subscribeWs,
  untilListening,
} from "./clients.ts";

// accessRequestChanged over both transports of one listening server: SSE (POST /graphql
// with Accept: text/event-stream) and graphql-ws on the same path.

// Each request its own task: a requester keeps one open request per target.
const nextTarget = targetsOf("Recipient Management");

let t: TestApp;
let baseUrl: string;
let counting: Awaited<ReturnType<typeof startPublishingApp>>["counting"];
const open: Subscriber[] = [];

beforeAll(async () => {
  ({ t, counting, baseUrl } = await startPublishingApp());
  await enableControl(t);
  await createPolicy(t, { type: "ROLE_GROUP", target: "Recipient Management", approvalType: "MANUAL" });
});

afterAll(async () => {
  await Promise.all(open.map((subscriber) => subscriber.close()));
  await new Promise((resolve) => t.app.server.close(resolve));
  await t.close();
});

async function sse(token: string | null, variables = {}): Promise<Subscriber> {
  const subscriber = await subscribeSse(baseUrl, token, variables);
  if (isRefusal(subscriber)) throw new Error(`SSE refused: ${subscriber.status} ${subscriber.body}`);
  open.push(subscriber);
  return subscriber;
}

function ws(token: string, variables = {}) {
  const subscriber = subscribeWs(baseUrl, { authorization: `Bearer ${token}` }, variables);
  open.push(subscriber);
  return subscriber;
}

/**
 * Waits for the expected events, then for a marker: a later request's CREATED reaching
 * `watchers` (subscribers that see it). The bus delivers in order, so once the marker
 * is in, any duplicate of an earlier event would be in too.
 */
async function settle(
  subscribers: Subscriber[],
  expected: string[][],
  requestIds: Set<string>,
  watchers: Subscriber[],
) {
  await waitFor("every subscriber's events", async () =>
    subscribers.every((subscriber, index) => received(subscriber, requestIds).length >= expected[index]!.length),
  );
  const marker = await createRequest(t, nextTarget());
  await waitFor("the marker on every watcher", async () =>
    watchers.every((subscriber) => received(subscriber).includes(`CREATED ${marker}`)),
  );
}

/** A live admin subscriber that sees every event: once it has a request's CREATED, the bus delivered it. */
async function markerOf(subscriber: Subscriber) {
  const marker = await createRequest(t, nextTarget());
  await waitFor("the marker event", async () => received(subscriber).includes(`CREATED ${marker}`));
  return marker;
}

describe("accessRequestChanged over SSE and WebSocket", () => {
  it("delivers CREATED, APPROVED and REVOKED of one request to each subscriber exactly once, in order", async () => {
    const before = counting.listening();
    const requesterSse = await sse(await t.tokenFor("requester@fabrikam.com"));
    const approverWs = ws(await t.tokenFor("approver2@fabrikam.com"));
    const adminSse = await sse(await t.tokenFor("admin@fabrikam.com"));
    const auditorWs = ws(await t.tokenFor("auditor@fabrikam.com"));
    await untilListening(counting, before + 4);

    const requestId = await createRequest(t, nextTarget());
    // A subscription for just this request, over each transport, from here on.
    const listening = counting.listening();
    const filteredWs = ws(await t.tokenFor("requester@fabrikam.com"), { requestId });
    const filteredSse = await sse(await t.tokenFor("approver1@fabrikam.com"), { requestId });
    await untilListening(counting, listening + 2);

    expect(expectType(await approve(t, requestId), "AccessRequest").status).toBe("APPROVED");
    const revoked = (await t.as("admin@fabrikam.com", RevokeAuthorization, { input: { requestId, comment: "done" } }))
      .revokeAccessAuthorization;
    expect(expectType(revoked, "AccessAuthorization").status).toBe("REVOKED");

    const all = [`CREATED ${requestId}`, `APPROVED ${requestId}`, `REVOKED ${requestId}`];
    const subscribers = [requesterSse, approverWs, adminSse, auditorWs, filteredWs, filteredSse];
    const expected = [all, all, all, all, all.slice(1), all.slice(1)];
    await settle(subscribers, expected, new Set([requestId]), [approverWs, adminSse, auditorWs]);

    subscribers.forEach((subscriber, index) => {
      expect(received(subscriber, new Set([requestId])), `subscriber ${index} (${subscriber.transport})`).toEqual(
        expected[index],
      );
      expect(subscriber.errors).toEqual([]);
      expect(subscriber.isEnded()).toBe(false);
      // The event names the requester, and the times follow the transitions.
      expect(subscriber.events.every((event) => event.requester === "requester@fabrikam.com")).toBe(true);
      const times = subscriber.events.map((event) => Date.parse(event.at));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });
  });

  it("answers every selection of the event's request: the stream's own, and aliases selecting other fields", async () => {
    // The first `request` is what the stream reads each event with; the others are read when answered.
    const query = `subscription {
      accessRequestChanged {
        type
        request { id reason requester { email } }
        short: request { id }
        other: request { status target requester { displayName } }
      }
    }`;
    const token = await t.tokenFor("admin@fabrikam.com");
    const controller = new AbortController();
    const response = await listeningAfter(counting, () =>
      fetch(`${baseUrl}/graphql`, {
        method: "POST",
        headers: { accept: "text/event-stream", "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
        signal: controller.signal,
      }),
    );
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const target = nextTarget();
    const requestId = await createRequest(t, target);
    let text = "";
    while (!/event: next\ndata: .*\n\n/.test(text)) text += (await reader.read()).value ?? "";
    controller.abort();
    const payload = JSON.parse(/event: next\ndata: (.*)\n\n/.exec(text)![1]!) as { data: unknown; errors?: unknown };
    expect(payload.errors).toBeUndefined();
    expect(payload.data).toEqual({
      accessRequestChanged: {
        type: "CREATED",
        request: { id: requestId, reason: expect.any(String), requester: { email: "requester@fabrikam.com" } },
        short: { id: requestId },
        other: { status: "PENDING", target, requester: { displayName: expect.any(String) } },
      },
    });
  });

  it("refuses an SSE subscription without a valid token with 401 and sends no event", async () => {
    const other = await generateDevIssuerKey();
    const user = await t.db.user.findFirstOrThrow({ where: { email: "admin@fabrikam.com" } });
    const forged = await devTokenFor(t.db, other, user.email, { issuer, audience, expiresIn: 3600 });
    const expired = await devTokenFor(t.db, t.key, user.email, { issuer, audience, expiresIn: -60 });
    for (const token of [null, "not-a-jwt", forged, expired]) {
      const listening = counting.listening();
      const refused = await subscribeSse(baseUrl, token);
      if (!isRefusal(refused)) {
        open.push(refused);
        throw new Error(`SSE subscription with token ${token} was accepted`);
      }
      expect(refused.status).toBe(401);
      // The 401 carries one error payload (the SSE framing of Yoga) and no data.
      const payloads = refused.body
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => JSON.parse(line.slice(6)) as { data?: unknown; errors?: { extensions?: { code?: string } }[] });
      expect(payloads).toHaveLength(1);
      expect(payloads[0]!.data).toBeUndefined();
      expect(payloads[0]!.errors?.map((error) => error.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
      expect(counting.listening()).toBe(listening);
    }
  });

  it("closes a WebSocket without a valid token (4403) before any event", async () => {
    const other = await generateDevIssuerKey();
    const user = await t.db.user.findFirstOrThrow({ where: { email: "admin@fabrikam.com" } });
    const forged = await devTokenFor(t.db, other, user.email, { issuer, audience, expiresIn: 3600 });
    const started = counting.started();
    const refused = [
      subscribeWs(baseUrl, undefined),
      subscribeWs(baseUrl, { authorization: "Bearer not-a-jwt" }),
      subscribeWs(baseUrl, { authorization: forged }), // no "Bearer " scheme
      subscribeWs(baseUrl, { authorization: `Bearer ${forged}` }),
    ];
    open.push(...refused);
    const outcomes = await Promise.all(refused.map((subscriber) => subscriber.socketClosed));
    for (const outcome of outcomes) expect(outcome.code).toBe(4403);
    // None of them ever listened.
    expect(counting.started()).toBe(started);

    // Nothing reaches them afterwards either: a live subscriber gets the next event, they do not.
    const adminToken = await t.tokenFor("admin@fabrikam.com");
    const live = await listeningAfter(counting, () => ws(adminToken));
    await markerOf(live);
    await live.close();
    for (const subscriber of refused) {
      expect(subscriber.events).toEqual([]);
      expect(subscriber.isEnded()).toBe(true);
    }
  });

  it("closes the WebSocket (4401) and ends the SSE stream when the token expires", async () => {
    const user = await t.db.user.findFirstOrThrow({ where: { email: "admin@fabrikam.com" } });
    const shortLived = await devTokenFor(t.db, t.key, user.email, { issuer, audience, expiresIn: 3 });
    const expiresAt = (JSON.parse(Buffer.from(shortLived.split(".")[1]!, "base64url").toString()) as { exp: number })
      .exp;
    const listening = counting.listening();
    // A lazy client (graphql-ws's default) closes its socket itself (1000) once its last
    // subscription completes: the server must close the socket, not complete the subscription.
    const socket = ws(shortLived);
    const stream = await sse(shortLived);
    await untilListening(counting, listening + 2);

    // Both deliver while the token is valid.
    const requestId = await createRequest(t, nextTarget());
    await waitFor("the CREATED event on both", async () =>
      [socket, stream].every((subscriber) => received(subscriber).includes(`CREATED ${requestId}`)),
    );

    // Both end at the token's expiry, not before it (how soon after is a matter of load;
    // the test's timeout bounds it).
    const [closed, socketEnded, ended] = await Promise.all([socket.socketClosed, socket.ended, stream.ended]);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt * 1000 - 50);
    expect(closed.code).toBe(4401);
    expect(socketEnded).toEqual({ closeCode: 4401, reason: "token expired" });
    expect(ended.reason).toBe("complete");

    // Events after the expiry go nowhere near them: a live subscriber gets the next one, they do not.
    const adminToken = await t.tokenFor("admin@fabrikam.com");
    const live = await listeningAfter(counting, () => ws(adminToken));
    const later = await markerOf(live);
    await live.close();
    for (const subscriber of [socket, stream]) expect(received(subscriber)).toEqual([`CREATED ${requestId}`]);
    expect(received(live)).toContain(`CREATED ${later}`);
  });

  it("keeps both open for a token valid for 30 days (beyond the longest Node timer)", async () => {
    const user = await t.db.user.findFirstOrThrow({ where: { email: "admin@fabrikam.com" } });
    const longLived = await devTokenFor(t.db, t.key, user.email, { issuer, audience, expiresIn: 30 * 86_400 });
    const listening = counting.listening();
    const socket = ws(longLived);
    const stream = await sse(longLived);
    await untilListening(counting, listening + 2);
    const requestId = await createRequest(t, nextTarget());
    await waitFor("the CREATED event on both", async () =>
      [socket, stream].every((subscriber) => received(subscriber).includes(`CREATED ${requestId}`)),
    );
    for (const subscriber of [socket, stream]) {
      expect(subscriber.isEnded(), `${subscriber.transport} ended`).toBe(false);
      expect(received(subscriber)).toEqual([`CREATED ${requestId}`]);
    }
  });
});
