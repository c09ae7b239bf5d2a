import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookAddressRefusedError, webhookSender } from "../../src/webhooks/sender.ts";
import { graphql } from "../graphql/index.ts";
import { CreatePolicy, CreateRequest } from "../helpers/documents.ts";
import { enableControl, rawId } from "../helpers/fixtures.ts";
import { startMailingApp } from "../helpers/mail.ts";
import { waitFor } from "../helpers/processes.ts";
import { startWebhookReceiver, verifyWebhook, type WebhookReceiver } from "../helpers/webhooks.ts";

const CreateEndpoint = graphql(`
  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) {
      __typename
      ... on WebhookEndpointSecret {
        secret
        endpoint {
          id
          url
          events
          enabled
        }
      }
      ...ErrorFields
      ... on ValidationError {
        field
      }
    }
  }
`);

const UpdateEndpoint = graphql(`
  mutation UpdateWebhookEndpoint($input: UpdateWebhookEndpointInput!) {
    updateWebhookEndpoint(input: $input) {
      __typename
      ... on WebhookEndpoint {
        enabled
        consecutiveFailures
        disabledReason
      }
      ...ErrorFields
    }
  }
`);

const RotateSecret = graphql(`
  mutation RotateWebhookSecret($input: RotateWebhookSecretInput!) {
    rotateWebhookSecret(input: $input) {
      __typename
      ... on WebhookEndpointSecret {
        secret
        endpoint {
          previousSecretExpiresAt
        }
      }
      ...ErrorFields
    }
  }
`);

const Replay = graphql(`
  mutation ReplayWebhookDelivery($input: ReplayWebhookDeliveryInput!) {
    replayWebhookDelivery(input: $input) {
      __typename
      ... on WebhookDelivery {
        id
        status
        replays
      }
      ...ErrorFields
    }
  }
`);

const Deliveries = graphql(`
  query WebhookDeliveries($endpointId: ID, $status: [WebhookDeliveryStatus!]) {
    webhookDeliveries(endpointId: $endpointId, status: $status, first: 50) {
      edges {
        node {
          id
          messageId
          eventType
          status
          attempts
          replays
          responseStatus
          lastError
          correlationId
          payload
          attemptHistory {
            responseStatus
            error
          }
        }
      }
    }
  }
`);

const Endpoints = graphql(`
  query WebhookEndpoints {
    webhookEndpoints(first: 10) {
      totalCount
      edges {
        node {
          id
          url
          enabled
          consecutiveFailures
          disabledReason
        }
      }
    }
  }
`);

const CancelRequest = graphql(`
  mutation CancelForWebhook($input: CancelAccessRequestInput!) {
    cancelAccessRequest(input: $input) {
      __typename
    }
  }
`);

let app: Awaited<ReturnType<typeof startMailingApp>>;
let receiver: WebhookReceiver;
const failuresToDisable = 2;
const attempts = 3;

// Fast retries and a short run of failures, as an operator could set them.
beforeAll(async () => {
  app = await startMailingApp({
    webhooks: {
      settings: { allowPrivateAddresses: true, failuresToDisable },
      send: webhookSender({ allowPrivateAddresses: true, timeoutMs: 5000 }),
    },
    jobOptions: { deliverWebhook: { attempts, backoff: { type: "exponential", delay: 150 } } },
  });
  receiver = await startWebhookReceiver();
  await enableControl(app.t);
  const policy = (
    await app.t.as("admin@fabrikam.com", CreatePolicy, {
      input: { target: "Exchange\\New-MoveRequest", approvalType: "MANUAL" },
    })
  ).createApprovalPolicy;
  expect(policy.__typename).toBe("ApprovalPolicy");
});

afterAll(async () => {
  await receiver?.close();
  await app?.close();
});

/** A GraphQL call over real HTTP, with the caller's x-request-id. */
async function overHttp<T>(
  email: string,
  document: Parameters<typeof print>[0],
  variables: unknown,
  requestId: string,
): Promise<{ data: T; requestId: string | null }> {
  const response = await fetch(`${app.publicUrl}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${await app.t.tokenFor(email)}`,
      "x-request-id": requestId,
    },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data: T; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return { data: body.data, requestId: response.headers.get("x-request-id") };
}

async function createEndpoint(events: string[] = ["ACCESS_REQUEST_CREATED", "ACCESS_REQUEST_CANCELED"]) {
  const result = (
    await app.t.as("admin@fabrikam.com", CreateEndpoint, {
      input: { url: receiver.url, events: events as never, description: "SIEM" },
    })
  ).createWebhookEndpoint;
  if (result.__typename !== "WebhookEndpointSecret") throw new Error(JSON.stringify(result));
  return { id: result.endpoint.id, secret: result.secret };
}

async function fileAndCancel(reason: string) {
  const created = (
    await app.t.as("requester@fabrikam.com", CreateRequest, {
      input: { target: "Exchange\\New-MoveRequest", reason },
    })
  ).createAccessRequest;
  if (created.__typename !== "AccessRequest") throw new Error(JSON.stringify(created));
  await app.t.as("requester@fabrikam.com", CancelRequest, { input: { requestId: created.id } });
  return rawId(created.id);
}

async function deliveriesOf(endpointId: string) {
  const result = await app.t.as("admin@fabrikam.com", Deliveries, { endpointId });
  return result.webhookDeliveries.edges.map((edge) => edge.node);
}

const payloadOf = (body: string) => JSON.parse(body) as { type: string; data: { request: { id: string } } };

describe("webhook endpoints", () => {
  it("are registered by admins only, with an https URL, and read by auditors without their secret", async () => {
    const asRequester = await app.t.as("requester@fabrikam.com", CreateEndpoint, {
      input: { url: "https://hooks.example.com/x", events: ["ACCESS_REQUEST_CREATED"] },
    });
    expect(asRequester.createWebhookEndpoint).toMatchObject({ code: "FORBIDDEN" });
    const badUrl = await app.t.as("admin@fabrikam.com", CreateEndpoint, {
      input: { url: "ftp://hooks.example.com/x", events: ["ACCESS_REQUEST_CREATED"] },
    });
    expect(badUrl.createWebhookEndpoint).toMatchObject({ code: "VALIDATION", field: "url" });
    const noEvents = await app.t.as("admin@fabrikam.com", CreateEndpoint, {
      input: { url: "https://hooks.example.com/x", events: [] },
    });
    expect(noEvents.createWebhookEndpoint).toMatchObject({ code: "VALIDATION", field: "events" });
    const auditorView = await app.t.request(await app.t.tokenFor("auditor@fabrikam.com"), Endpoints);
    expect(auditorView.errors).toBeUndefined();
    const requesterView = await app.t.request(await app.t.tokenFor("requester@fabrikam.com"), Endpoints);
    expect(requesterView.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await app.t.db.webhookEndpoint.count()).toBe(0);
  });
});

describe("deliveries", () => {
  let endpoint: { id: string; secret: string };

  beforeAll(async () => {
    endpoint = await createEndpoint();
  });

  it("sign each event with the endpoint's secret (Standard Webhooks) and carry the request id that caused it", async () => {
    receiver.received.length = 0;
    const created = await overHttp<{ createAccessRequest: { id: string } }>(
      "requester@fabrikam.com",
      CreateRequest,
      { input: { target: "Exchange\\New-MoveRequest", reason: "Mailbox move for the CEO" } },
      "trace-webhook-1",
    );
    expect(created.requestId).toBe("trace-webhook-1");
    const requestId = rawId(created.data.createAccessRequest.id);
    const [webhook] = await waitFor("the CREATED webhook", async () =>
      receiver.received.length ? receiver.received : null,
    );
    const payload = verifyWebhook(endpoint.secret, webhook!) as ReturnType<typeof payloadOf>;
    expect(payload.type).toBe("access_request.created");
    expect(payload.data.request).toMatchObject({
      id: requestId,
      status: "PENDING",
      reason: "Mailbox move for the CEO",
    });
    expect(webhook!.headers["x-request-id"]).toBe("trace-webhook-1");
    expect(webhook!.headers["content-type"]).toBe("application/json");
    // Another secret does not verify it.
    expect(() => verifyWebhook(`whsec_${Buffer.alloc(32, 1).toString("base64")}`, webhook!)).toThrow();

    await app.t.as("requester@fabrikam.com", CancelRequest, { input: { requestId } });
    await waitFor("the CANCELED webhook", async () => receiver.received.length >= 2);
    const deliveries = await waitFor("both deliveries to be recorded as SUCCEEDED", async () => {
      const rows = await deliveriesOf(endpoint.id);
      return rows.length === 2 && rows.every((row) => row.status === "SUCCEEDED") ? rows : null;
    });
    expect(deliveries.map((row) => row.eventType).sort()).toEqual([
      "ACCESS_REQUEST_CANCELED",
      "ACCESS_REQUEST_CREATED",
    ]);
    const createdDelivery = deliveries.find((row) => row.eventType === "ACCESS_REQUEST_CREATED")!;
    expect(createdDelivery).toMatchObject({ attempts: 1, responseStatus: 204, correlationId: "trace-webhook-1" });
    expect(createdDelivery.messageId).toBe(webhook!.headers["webhook-id"]);
  });

  it("are retried with backoff while the endpoint fails, under one webhook-id, until it takes them", async () => {
    receiver.received.length = 0;
    // Each message fails twice, then goes through.
    const tries = new Map<string, number>();
    receiver.answerWith(({ headers }) => {
      const id = String(headers["webhook-id"]);
      tries.set(id, (tries.get(id) ?? 0) + 1);
      return tries.get(id)! <= 2 ? 500 : 204;
    });
    await fileAndCancel("Retry me");
    // Both events' deliveries (CREATED and CANCELED) settle before the next test changes the answers.
    const settled = await waitFor("both deliveries to take three attempts", async () => {
      const rows = (await deliveriesOf(endpoint.id)).filter((row) => row.attempts === 3);
      return rows.length === 2 && rows.every((row) => row.status === "SUCCEEDED") ? rows : null;
    });
    const delivery = settled[0]!;
    expect(delivery.attemptHistory.map((attempt) => attempt.responseStatus)).toEqual([204, 500, 500]);
    expect(delivery.lastError).toBeNull();
    const sameMessage = receiver.received.filter((webhook) => webhook.headers["webhook-id"] === delivery.messageId);
    expect(sameMessage.map((webhook) => webhook.answered)).toEqual([500, 500, 204]);
    for (const webhook of sameMessage) verifyWebhook(endpoint.secret, webhook);
    receiver.answerWith(() => 204);
  });

  it("never follow a redirect", async () => {
    receiver.received.length = 0;
    receiver.answerWith(() => 302);
    await app.t.as("admin@fabrikam.com", UpdateEndpoint, {
      input: { id: endpoint.id, events: ["ACCESS_REQUEST_CREATED"] },
    });
    await fileAndCancel("Redirected");
    const delivery = await waitFor("the redirected delivery to fail", async () => {
      const rows = await deliveriesOf(endpoint.id);
      return rows.find((row) => row.status === "FAILED");
    });
    expect(delivery).toMatchObject({ attempts, responseStatus: 302 });
    expect(delivery.lastError).toMatch(/redirects are not followed/);
    const sent = receiver.received.filter((webhook) => webhook.headers["webhook-id"] === delivery.messageId);
    expect(sent.map((webhook) => webhook.answered)).toEqual([302, 302, 302]);
    receiver.answerWith(() => 204);
    // A success ends the run of failures this delivery started.
    await fileAndCancel("Clears the run");
    await waitFor(
      "the run of failures to clear",
      async () =>
        (await app.t.db.webhookEndpoint.findUniqueOrThrow({ where: { id: rawId(endpoint.id) } }))
          .consecutiveFailures === 0,
    );
  });
});

describe("an endpoint that keeps failing", () => {
  it("is disabled after the run of failures, with a mail to the admins; replays go out once it is enabled again", async () => {
    const endpoint = await createEndpoint(["ACCESS_REQUEST_CREATED"]);
    const endpointId = rawId(endpoint.id);
    receiver.answerWith(() => 503);
    for (let run = 1; run <= failuresToDisable; run += 1) {
      await fileAndCancel(`Failing ${run}`);
      await waitFor(`delivery ${run} to fail for good`, async () => {
        const rows = await deliveriesOf(endpoint.id);
        return rows.filter((row) => row.status === "FAILED").length === run;
      });
    }
    const [disabled] = await app.smtp.messages((mail) => mail.subject.startsWith("Webhook endpoint disabled"));
    expect(disabled!.to).toBe("admin@fabrikam.com");
    expect(disabled!.text).toContain(receiver.url);
    const state = await app.t.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpointId } });
    expect(state).toMatchObject({ enabled: false, consecutiveFailures: failuresToDisable });
    expect(state.disabledReason).toMatch(/2 deliveries in a row failed; the last: HTTP 503/);
    expect(
      await app.t.db.auditEvent.count({ where: { action: "Disable-ElevatedAccessWebhook", subjectId: endpointId } }),
    ).toBe(1);

    // While disabled, events are not recorded for it, and nothing is replayed.
    const before = (await deliveriesOf(endpoint.id)).length;
    await fileAndCancel("While disabled");
    expect((await deliveriesOf(endpoint.id)).length).toBe(before);
    const failed = (await deliveriesOf(endpoint.id))[0]!;
    const refused = (await app.t.as("admin@fabrikam.com", Replay, { input: { id: failed.id } })).replayWebhookDelivery;
    expect(refused).toMatchObject({ code: "CONFLICT" });

    receiver.answerWith(() => 204);
    receiver.received.length = 0;
    const enabled = (
      await app.t.as("admin@fabrikam.com", UpdateEndpoint, { input: { id: endpoint.id, enabled: true } })
    ).updateWebhookEndpoint;
    expect(enabled).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledReason: null });
    const replayed = (await app.t.as("admin@fabrikam.com", Replay, { input: { id: failed.id } })).replayWebhookDelivery;
    expect(replayed).toMatchObject({ status: "PENDING", replays: 1 });
    const delivery = await waitFor("the replay to succeed", async () => {
      const rows = await deliveriesOf(endpoint.id);
      return rows.find((row) => row.id === failed.id && row.status === "SUCCEEDED");
    });
    expect(delivery.attempts).toBe(attempts + 1);
    const [resent] = receiver.received;
    expect(resent!.headers["webhook-id"]).toBe(failed.messageId);
    expect(verifyWebhook(endpoint.secret, resent!)).toEqual(failed.payload);
    const asAuditor = await app.t.as("auditor@fabrikam.com", Replay, { input: { id: failed.id } });
    expect(asAuditor.replayWebhookDelivery).toMatchObject({ code: "FORBIDDEN" });
    await app.t.as("admin@fabrikam.com", UpdateEndpoint, { input: { id: endpoint.id, enabled: false } });
  });
});

describe("secret rotation", () => {
  it("signs with the new secret and, during the grace period, the old one too", async () => {
    const endpoint = await createEndpoint(["ACCESS_REQUEST_CREATED"]);
    const rotated = (await app.t.as("admin@fabrikam.com", RotateSecret, { input: { id: endpoint.id, graceHours: 2 } }))
      .rotateWebhookSecret;
    if (rotated.__typename !== "WebhookEndpointSecret") throw new Error(JSON.stringify(rotated));
    expect(rotated.secret).not.toBe(endpoint.secret);
    expect(new Date(rotated.endpoint.previousSecretExpiresAt!).getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    receiver.received.length = 0;
    await fileAndCancel("Rotation with grace");
    const [during] = await waitFor("a webhook after rotation", async () =>
      receiver.received.length ? receiver.received : null,
    );
    expect(String(during!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    verifyWebhook(rotated.secret, during!);
    verifyWebhook(endpoint.secret, during!);

    const again = (await app.t.as("admin@fabrikam.com", RotateSecret, { input: { id: endpoint.id, graceHours: 0 } }))
      .rotateWebhookSecret;
    if (again.__typename !== "WebhookEndpointSecret") throw new Error(JSON.stringify(again));
    receiver.received.length = 0;
    await fileAndCancel("Rotation without grace");
    const [after] = await waitFor("a webhook after the second rotation", async () =>
      receiver.received.length ? receiver.received : null,
    );
    verifyWebhook(again.secret, after!);
    expect(() => verifyWebhook(rotated.secret, after!)).toThrow();
    const audit = await app.t.db.auditEvent.findMany({
      where: { action: "Reset-ElevatedAccessWebhookSecret", subjectId: rawId(endpoint.id) },
      orderBy: { sequence: "asc" },
    });
    expect(audit.map((event) => event.details)).toEqual([{ graceHours: 2 }, { graceHours: 0 }]);
    expect(JSON.stringify(audit)).not.toContain(again.secret);
  });
});

describe("the address guard", () => {
  it("refuses loopback and private addresses, by name or number, unless the operator allows them", async () => {
    const send = webhookSender({ allowPrivateAddresses: false, timeoutMs: 2000 });
    receiver.received.length = 0;
    const message = {
      messageId: "msg_x",
      body: "{}",
      secrets: [`whsec_${Buffer.alloc(32).toString("base64")}`],
      requestId: null,
    };
    await expect(send({ ...message, url: receiver.url })).rejects.toBeInstanceOf(WebhookAddressRefusedError);
    await expect(send({ ...message, url: receiver.url.replace("127.0.0.1", "localhost") })).rejects.toBeInstanceOf(
      WebhookAddressRefusedError,
    );
    expect(receiver.received).toHaveLength(0);
    const allowed = webhookSender({ allowPrivateAddresses: true, timeoutMs: 2000 });
    expect(await allowed({ ...message, url: receiver.url })).toBe(204);
  });
});
