import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../graphql/index.ts";
import { audience, issuer, startTestApp, type TestApp } from "../helpers/app.ts";
import { approve, checkTask, createPolicy, createRequest, enableControl } from "../helpers/fixtures.ts";
import { waitFor } from "../helpers/processes.ts";
import { databaseSnapshot } from "../helpers/snapshot.ts";
import { devTokenFor } from "../helpers/tokens.ts";
import { received, startPublishingApp, subscribeWs, untilListening } from "../subscriptions/clients.ts";

// Issue 10: cost that variables cannot dodge, the same limits over every transport, text
// no input can smuggle past the database, tampered cursors, deep JSON, bad tenants, CORS.

let t: TestApp;
let baseUrl: string;
let counting: Awaited<ReturnType<typeof startPublishingApp>>["counting"];
let requestId: string;
let authorizationId: string;

beforeAll(async () => {
  ({ t, baseUrl, counting } = await startPublishingApp());
  await enableControl(t);
  await createPolicy(t, { target: "Exchange\\New-MoveRequest", approvalType: "MANUAL" });
  const granted = await createRequest(t, "Exchange\\New-MoveRequest", { as: "approver2@fabrikam.com" });
  const approved = await approve(t, granted);
  if (approved.__typename !== "AccessRequest" || !approved.authorization) throw new Error("not approved");
  authorizationId = approved.authorization.id;
  for (let index = 0; index < 30; index++) await checkTask(t, "approver2@fabrikam.com", "Exchange\\New-MoveRequest");
  requestId = await createRequest(t, "Exchange\\New-MoveRequest");
});
afterAll(async () => {
  t.app.server.close();
  await t.close();
});

async function raw(query: string, variables?: Record<string, unknown>, as = "requester@fabrikam.com") {
  return t.request(await t.tokenFor(as), parse(query), variables as never);
}

/** Every table a refused operation might have written, rows and columns, to show it wrote nothing. */
const snapshot = () => databaseSnapshot(t.db);

const stillServing = async () =>
  expect((await raw("{ me { email } }")).data).toEqual({ me: { email: "requester@fabrikam.com" } });

describe("query cost", () => {
  it("counts a page size given as a variable like a literal one", async () => {
    const literal = await raw("{ catalog(first: 1000000000) { totalCount } }");
    const variable = await raw("query($n: Int) { catalog(first: $n) { totalCount } }", { n: 1_000_000_000 });
    for (const result of [literal, variable]) {
      expect((result.data as { catalog?: unknown } | undefined)?.catalog ?? null).toBeNull();
      expect(result.errors?.[0]).toMatchObject({ extensions: { code: "QUERY_TOO_COMPLEX" } });
    }
    await stillServing();
  });

  it("multiplies nested pages, so pages inside pages cannot add up to minutes of work", async () => {
    const query = `query($n: Int) { taskExecutions(first: $n) { edges { node { task authorization {
      executions(first: $n) { edges { node { task authorization { executions(first: $n) { edges { node { task } } } } } } } } } } } }`;
    const refused = await raw(query, { n: 60 }, "auditor@fabrikam.com");
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: "QUERY_TOO_COMPLEX" } });
    // A page inside a page holds at most 25, whatever it asks for.
    const capped = await raw(
      "query($id: ID!) { node(id: $id) { ... on AccessAuthorization { executions(first: 60) { totalCount edges { cursor } } } } }",
      { id: authorizationId },
      "auditor@fabrikam.com",
    );
    const executions = (capped.data as { node: { executions: { totalCount: number; edges: unknown[] } } }).node
      .executions;
    expect(executions.totalCount).toBe(30);
    expect(executions.edges).toHaveLength(25);
    // The same query with small pages is fine.
    const small = await raw(query, { n: 3 }, "auditor@fabrikam.com");
    expect(small.errors, JSON.stringify(small.errors)).toBeUndefined();
  });

  it("refuses batched operations (a JSON array of queries)", async () => {
    const response = await t.app.yoga.fetch("http://localhost/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await t.tokenFor("requester@fabrikam.com")}`,
      },
      body: JSON.stringify([{ query: "{ me { email } }" }, { query: "{ me { email } }" }]),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});

describe("text that cannot be stored", () => {
  const Create = graphql(`
    mutation AbuseCreate($input: CreateAccessRequestInput!) {
      createAccessRequest(input: $input) {
        __typename
        ...ErrorFields
      }
    }
  `);
  const Deny = graphql(`
    mutation AbuseDeny($input: DecideAccessRequestInput!) {
      denyAccessRequest(input: $input) {
        __typename
      }
    }
  `);
  const Check = graphql(`
    mutation AbuseCheck($input: AuthorizeTaskInput!) {
      authorizeTask(input: $input) {
        __typename
      }
    }
  `);
  const Filtered = graphql(`
    query AbuseFilter($filter: AccessRequestFilter) {
      accessRequests(filter: $filter, first: 5) {
        totalCount
      }
    }
  `);

  it("refuses NUL and unpaired surrogates in every kind of argument with VALIDATION naming it, writing nothing", async () => {
    const before = await snapshot();
    const token = await t.tokenFor("approver1@fabrikam.com");
    const answers = await Promise.all([
      t.request(token, Create, { input: { target: "Exchange\\New-MoveRequest", reason: "a\u0000b" } }),
      t.request(token, Create, { input: { target: "Exchange\\New-Move\u0000Request", reason: "ok" } }),
      t.request(token, Deny, { input: { requestId, comment: "half a pair \uD800 here" } }),
      t.request(token, Check, { input: { task: "Exchange\\New-MoveRequest\u0000" } }),
      t.request(token, Check, { input: { task: "Exchange\\New-MoveRequest", parameters: { Identity: "x\u0000" } } }),
      t.request(token, Check, { input: { task: "x", parameters: { "k\u0000": 1 } } }),
      t.request(token, Filtered, { filter: { target: "Exchange\\New\u0000" } }),
      t.request(token, Filtered, { filter: { requesterEmail: "a\uDFFFb@fabrikam.com" } }),
      raw(`{ accessRequests(filter: { target: "x\\u0000" }, first: 1) { totalCount } }`),
    ]);
    const rules = answers.map((answer) => ({
      status: answer.status,
      code: answer.errors?.[0]?.extensions?.code,
      message: answer.errors?.[0]?.message,
    }));
    for (const rule of rules) {
      expect(rule.status).toBe(200);
      expect(rule.code).toBe("VALIDATION");
      expect(rule.message).toMatch(
        /^(\$input|\$filter|filter)[.\w]*: must not contain (NUL|unpaired surrogate) characters$/,
      );
    }
    expect(await snapshot()).toEqual(before);
    await stillServing();
  });

  it("refuses tampered cursors with VALIDATION naming the argument", async () => {
    const before = await snapshot();
    for (const after of [
      Buffer.from("GPC:S:not-a-uuid").toString("base64"),
      Buffer.from("GPC:J:[1,2]").toString("base64"),
      "%%%not base64",
    ]) {
      const result = await raw("query($after: String) { accessRequests(first: 5, after: $after) { totalCount } }", {
        after,
      });
      expect(result.status).toBe(200);
      expect(result.errors?.[0]).toMatchObject({
        message: "after: must be a cursor this API returned (pageInfo.endCursor)",
        extensions: { code: "VALIDATION" },
      });
      const literal = await raw(`{ taskExecutions(first: 5, after: ${JSON.stringify(after)}) { totalCount } }`);
      expect(literal.errors?.[0]?.extensions?.code).toBe("VALIDATION");
    }
    expect(await snapshot()).toEqual(before);
    await stillServing();
  });

  it("refuses parameters nested thousands of levels deep without overflowing the check", async () => {
    // Written by hand: JSON.stringify itself would overflow on such a value.
    const deep = `${'{"next":'.repeat(5000)}"leaf"${"}".repeat(5000)}`;
    const body = `{"query":"mutation($input: AuthorizeTaskInput!) { authorizeTask(input: $input) { __typename } }","variables":{"input":{"task":"Exchange\\\\New-MoveRequest","parameters":${deep}}}}`;
    const before = await snapshot();
    const response = await t.app.yoga.fetch("http://localhost/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await t.tokenFor("enforcer@fabrikam.com")}`,
      },
      body,
    });
    expect(response.status).toBe(200);
    const result = (await response.json()) as { errors?: unknown[] };
    expect(result.errors?.[0]).toMatchObject({
      message: "$input: must be nested at most 32 levels deep",
      extensions: { code: "VALIDATION" },
    });
    expect(await snapshot()).toEqual(before);
    await stillServing();
  });

  it("answers 401 for a validly signed token whose tenant is not a plain name, or not registered", async () => {
    for (const tenantId of ["not-a-uuid", "a b", "x\u0000y", "../../etc"]) {
      const token = await devTokenFor(t.db, t.key, "requester@fabrikam.com", { issuer, audience, tenantId });
      const result = await t.request(token, parse("{ me { email } }"));
      expect(result.status, tenantId).toBe(401);
      expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    }
  });
});

describe("over WebSocket", () => {
  it("answers a refused operation with its errors and keeps the socket and its other subscriptions", async () => {
    const listening = counting.listening();
    const token = await t.tokenFor("auditor@fabrikam.com");
    const live = subscribeWs(baseUrl, { authorization: `Bearer ${token}` });
    await untilListening(counting, listening + 1);
    // Refused operations on the same socket as the live subscription.
    const refusals = await Promise.all(
      [
        `{ ${Array.from({ length: 20 }, (_, index) => `a${index}: me { email }`).join(" ")} }`,
        "query($n: Int) { catalog(first: $n) { totalCount } }",
        `{ accessRequests(first: 1) { edges { node { ${"authorization { request { ".repeat(7)}id${" } }".repeat(7)} } } } }`,
      ].map((query) => live.execute(query, { n: 1_000_000_000 })),
    );
    for (const result of refusals) expect(result.errors?.length).toBeGreaterThan(0);
    const created = await createRequest(t, "Exchange\\New-MoveRequest", { as: "approver1@fabrikam.com" });
    await waitFor("the live subscription's event", async () => received(live).includes(`CREATED ${created}`));
    expect(live.isEnded()).toBe(false);
    await live.close();
  });
});

describe("CORS", () => {
  const preflight = (app: TestApp, origin: string) =>
    app.app.yoga.fetch("http://localhost/graphql", {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST" },
    });

  it("grants no origin by default (same origin only), and only the listed ones with CORS_ORIGINS", async () => {
    const denied = await preflight(t, "https://evil.example");
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
    expect(denied.headers.get("access-control-allow-credentials")).toBeNull();
    const listed = await startTestApp({ corsOrigins: ["https://console.example.com"] });
    try {
      const allowed = await preflight(listed, "https://console.example.com");
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://console.example.com");
      expect((await preflight(listed, "https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await listed.close();
    }
  });
});
