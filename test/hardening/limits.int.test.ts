import { once } from "node:events";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createEventBus } from "../../src/events/event-bus.ts";
import { maxGraphQLBodyBytes } from "../../src/http/body-limit.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";

// RELIABILITY 23 on a production app, over HTTP and over WebSocket: every limit is
// refused before anything executes, no field names are suggested, introspection is
// off, and an unexpected error says nothing of what happened inside.

const secret = "connection to 10.1.2.3:6379 refused, password hunter2";

let t: TestApp;
let wsUrl: string;
beforeAll(async () => {
  const events = createEventBus();
  t = await startTestApp({
    production: true,
    // Subscriptions fail with an unexpected error whose message must not reach clients.
    events: {
      ...events,
      requestEvents: () => {
        throw new Error(secret);
      },
    },
  });
  t.app.server.listen(0, "127.0.0.1");
  await once(t.app.server, "listening");
  wsUrl = `ws://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  t.app.server.closeAllConnections();
  await new Promise<void>((resolve) => t.app.server.close(() => resolve()));
  await t.close();
});

type Result = { data?: unknown; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };

async function overHttp(query: string, variables?: Record<string, unknown>): Promise<Result> {
  const response = await t.app.yoga.fetch("http://localhost/graphql", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, text/event-stream",
      authorization: `Bearer ${await t.tokenFor("requester@fabrikam.com")}`,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.text();
  // A subscription answers as a stream of events: its first one is the result.
  const first = response.headers.get("content-type")?.startsWith("text/event-stream")
    ? body.match(/^data: (.*)$/m)?.[1]
    : body;
  if (!first) throw new Error(`no result in: ${body}`);
  return JSON.parse(first) as Result;
}

/** One operation on its own graphql-ws connection; resolves with its first result or its errors. */
async function overWebSocket(query: string, variables?: Record<string, unknown>): Promise<Result> {
  const token = await t.tokenFor("requester@fabrikam.com");
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazyCloseTimeout: 0,
  });
  try {
    return await new Promise<Result>((resolve) => {
      client.subscribe(
        { query, variables },
        {
          next: (result) => resolve(result as Result),
          error: (error) => resolve({ errors: (Array.isArray(error) ? error : [error]) as Result["errors"] }),
          complete: () => {},
        },
      );
    });
  } finally {
    await client.dispose();
  }
}

const transports = [
  ["HTTP", overHttp],
  ["WebSocket", overWebSocket],
] as const;

const aliases = (count: number) =>
  `{ ${Array.from({ length: count }, (_, index) => `a${index}: me { email }`).join(" ")} }`;
const nest = (levels: number): string => (levels === 0 ? "id" : `authorization { request { ${nest(levels - 1)} } }`);

/** 2 × `fields` directives, on as many aliased fields. */
const directives = (fields: number) =>
  `{ me { ${Array.from({ length: fields }, (_, index) => `e${index}: email @include(if: true) @skip(if: false)`).join(" ")} } }`;

/** What each limit refuses, with a query just inside it that must still answer. */
const limits = [
  { name: "depth", over: `{ accessRequests(first: 1) { edges { node { ${nest(5)} } } } }`, message: /depth/i },
  { name: "aliases", over: aliases(16), inside: aliases(15), message: /aliases/i },
  {
    name: "tokens",
    over: `{ me { ${"email ".repeat(3000)} } }`,
    message: /token/i,
  },
  {
    name: "directives",
    over: directives(11),
    inside: directives(10),
    message: /directives/i,
  },
  {
    name: "cost",
    over: "query($n: Int) { catalog(first: $n) { edges { node { name } } } }",
    variables: { n: 1_000_000_000 },
    message: /complexity|cost|page|first/i,
  },
];

describe.each(transports)("over %s, in production", (_name, send) => {
  it.each(limits)(
    "refuses a query over the $name limit before it runs",
    async ({ over, inside, variables, message }) => {
      const refused = await send(over, variables);
      expect(refused.data ?? null).toBeNull();
      expect(refused.errors?.[0]?.message).toMatch(message);
      if (inside) {
        const answered = await send(inside);
        expect(answered.errors).toBeUndefined();
        expect(answered.data).toMatchObject({});
      }
    },
  );

  it("suggests no field names", async () => {
    const result = await send("{ mee { email } }");
    expect(result.errors?.[0]?.message).toMatch(/Cannot query field "mee"/);
    expect(JSON.stringify(result.errors)).not.toMatch(/Did you mean|"me"/);
  });

  it("refuses introspection", async () => {
    const result = await send("{ __schema { queryType { name } } }");
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.message).toMatch(/introspection/i);
  });

  it("masks an unexpected error: no message, stack or detail of what failed", async () => {
    const result = await send("subscription { accessRequestChanged { type } }");
    expect(result.errors?.[0]?.message).toBe("Unexpected error.");
    const said = JSON.stringify(result);
    expect(said).not.toContain("hunter2");
    expect(said).not.toContain("10.1.2.3");
    expect(said).not.toMatch(/stack|at .*\.ts:\d+/);
  });
});

describe("request bodies", () => {
  /** A POST to the real server, its body declared (Content-Length) or chunked; the status and the body. */
  async function post(body: string, how: "declared" | "chunked") {
    const { port } = t.app.server.address() as AddressInfo;
    const token = await t.tokenFor("requester@fabrikam.com");
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port,
          path: "/graphql",
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${token}`,
            ...(how === "declared" ? { "content-length": Buffer.byteLength(body) } : {}),
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      // The server may answer and close before the whole of a refused body is sent.
      req.on("error", reject);
      for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.slice(at, at + 64 * 1024));
      req.end();
    });
  }
  // Spaces are no tokens: a document this long is still one small query.
  const padded = (bytes: number) => JSON.stringify({ query: `{ __typename${" ".repeat(bytes)} }` });

  it.each(["declared", "chunked"] as const)(
    "refuses a %s body over the limit with 413, answers one under it",
    async (how) => {
      const over = await post(padded(maxGraphQLBodyBytes), how);
      expect(over.status).toBe(413);
      expect(JSON.parse(over.body).errors[0].extensions.code).toBe("REQUEST_ENTITY_TOO_LARGE");
      const under = await post(padded(maxGraphQLBodyBytes - 100), how);
      expect(under.status).toBe(200);
      expect(JSON.parse(under.body)).toEqual({ data: { __typename: "Query" } });
    },
  );
});
