// The HTTP part of `npm run bench`: authorizeTask, `me` and the bare request paths of the
// API, as ratios to a bare graphql-yoga hello world loaded in the same run.
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { createTokenVerifier } from "../../src/auth/token-verifier.ts";
import { createDb } from "../../src/db/client.ts";
import { approveAccessRequest, createAccessRequest } from "../../src/domain/requests/requests.service.ts";
import { createEventBus } from "../../src/events/event-bus.ts";
import { createApp } from "../../src/http/app.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { contextFor, target } from "../helpers/jobs.ts";
import { freePort, spawnApi, waitFor } from "../helpers/processes.ts";
import { statementsDuring } from "../helpers/statements.ts";
import { devTokenFor } from "../helpers/tokens.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";
import {
  connections,
  type Db,
  describeLoad,
  entryPoint,
  type Fabrikam,
  graphql,
  type Load,
  load,
  ms,
  repoRoot,
  row,
  seconds,
  stopMeasured,
  warmupSeconds,
} from "./common.ts";

/** The bare hello world, as a child process like the API. */
async function startHelloYoga() {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "test/bench/hello-yoga.ts"], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, NODE_ENV: "production", PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  await waitFor(
    "the hello world to listen",
    async () => {
      try {
        return (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: helloBody }))
          .ok;
      } catch {
        return false;
      }
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

const helloBody = JSON.stringify({ query: "{ hello }" });
export const authorizeBody = (task: string) =>
  JSON.stringify({
    query:
      "mutation($input: AuthorizeTaskInput!) { authorizeTask(input: $input) { __typename ... on TaskAuthorization { allowed reason } } }",
    variables: { input: { task } },
  });

export type IssuerKey = Awaited<ReturnType<typeof loadOrCreateDevIssuerKey>>;

/** The API's app (createApp) inside this process, with its own database client. */
export function inProcessApp(key: IssuerKey) {
  const db = createDb(workerDatabaseUrl());
  const { yoga } = createApp({
    db,
    logger: pino({ level: "silent" }),
    auditKeys: testAuditKeys,
    verifyToken: createTokenVerifier({ issuer: "elevate-dev", audience: "elevate", devPublicKey: key.publicKey }),
    effects: { dispatch: async () => {} },
    events: createEventBus(),
    publicUrl: "http://localhost",
    corsOrigins: [],
    production: false,
  });
  const send = async (body: string, token?: string) =>
    (
      await yoga.fetch("http://localhost/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body,
      })
    ).text();
  return { send, stop: () => db.$disconnect() };
}

/**
 * Statements per request, counted in this process on the same app: a warm-up request,
 * then 20 of each.
 */
async function statementsPerRequest(
  key: IssuerKey,
  requests: { name: string; body: string; token?: string }[],
): Promise<Map<string, number>> {
  const { send, stop } = inProcessApp(key);
  const counts = new Map<string, number>();
  for (const { name, body, token } of requests) {
    await send(body, token);
    const { statements } = await statementsDuring(async () => {
      for (let i = 0; i < 20; i++) await send(body, token);
    });
    counts.set(name, statements / 20);
  }
  await stop();
  return counts;
}
/** The requester's ACTIVE grant for `target`, approved through the domain unless an earlier part made it. */
/** The API as the authorizeTask loads need it: the per-minute quota raised out of the way. */
export function spawnAuthorizingApi(queuePrefix: string, devIssuerKeyFile: string) {
  return spawnApi({
    redisUrl,
    queuePrefix,
    devIssuerKeyFile,
    env: { QUOTA_AUTHORIZE_TASK_PER_MINUTE: "1000000000", LOG_LEVEL: "info" },
    ...entryPoint("server"),
  });
}

export async function grantRequester(db: Db, fabrikam: Fabrikam) {
  const active = { userId: fabrikam.requester.id, target, status: "ACTIVE" as const };
  if (await db.accessAuthorization.findFirst({ where: active })) return;
  const request = await createAccessRequest(contextFor(db, fabrikam.requester), { target, reason: "bench grant" });
  await approveAccessRequest(contextFor(db, fabrikam.approver), { requestId: request.id });
}

export async function benchHttp(db: Db, fabrikam: Fabrikam, queuePrefix: string) {
  const keyFile = path.join(tmpdir(), `elevate-bench-issuer-${process.pid}.json`);
  const key = await loadOrCreateDevIssuerKey(keyFile);
  await grantRequester(db, fabrikam);
  const tokenFor = (email: string) => devTokenFor(db, key, email, { issuer: "elevate-dev", audience: "elevate" });
  const granted = await tokenFor("requester@fabrikam.com");
  const notGranted = await tokenFor("approver2@fabrikam.com");

  const hello = await startHelloYoga();
  const api = await spawnAuthorizingApi(queuePrefix, keyFile);
  const graphqlUrl = `${api.url}/graphql`;
  try {
    // Each request checked once by hand: the load must measure the answer it claims to.
    const expectations: [string, string, string | undefined, (json: unknown) => boolean][] = [
      [
        "governed, granted",
        authorizeBody(target),
        granted,
        (j) => JSON.stringify(j).includes('"ACTIVE_AUTHORIZATION"'),
      ],
      [
        "governed, no grant",
        authorizeBody(target),
        notGranted,
        (j) => JSON.stringify(j).includes('"NO_AUTHORIZATION"'),
      ],
      [
        "ungoverned",
        authorizeBody("Exchange\\Set-Mailbox"),
        granted,
        (j) => JSON.stringify(j).includes('"NOT_GOVERNED"'),
      ],
    ];
    for (const [what, body, token, ok] of expectations) {
      const answer = await graphql(graphqlUrl, body, token);
      if (answer.status !== 200 || !ok(answer.json)) throw new Error(`${what}: ${JSON.stringify(answer)}`);
    }

    const perRequest = await statementsPerRequest(key, [
      { name: "granted", body: authorizeBody(target), token: granted },
      { name: "notGranted", body: authorizeBody(target), token: notGranted },
      { name: "ungoverned", body: authorizeBody("Exchange\\Set-Mailbox"), token: granted },
      { name: "me", body: JSON.stringify({ query: "{ me { email } }" }), token: granted },
      { name: "typename", body: JSON.stringify({ query: "{ __typename }" }), token: granted },
      { name: "unauthenticated", body: JSON.stringify({ query: "{ __typename }" }) },
    ]);
    console.error(`SQL statements per request: ${JSON.stringify(Object.fromEntries(perRequest))}`);
    console.error(`HTTP at ${connections} connections, ${seconds} s each after ${warmupSeconds} s of warm-up`);
    const baselineBefore = await load({ url: hello.url, body: helloBody, status: 200 });
    console.error(`  hello world (before): ${describeLoad(baselineBefore)}`);
    const measured = {
      granted: await load({ url: graphqlUrl, body: authorizeBody(target), token: granted, status: 200 }),
      notGranted: await load({ url: graphqlUrl, body: authorizeBody(target), token: notGranted, status: 200 }),
      ungoverned: await load({
        url: graphqlUrl,
        body: authorizeBody("Exchange\\Set-Mailbox"),
        token: granted,
        status: 200,
      }),
      me: await load({
        url: graphqlUrl,
        body: JSON.stringify({ query: "{ me { email } }" }),
        token: granted,
        status: 200,
      }),
      typename: await load({
        url: graphqlUrl,
        body: JSON.stringify({ query: "{ __typename }" }),
        token: granted,
        status: 200,
      }),
      unauthenticated: await load({ url: graphqlUrl, body: JSON.stringify({ query: "{ __typename }" }), status: 401 }),
    };
    const baselineAfter = await load({ url: hello.url, body: helloBody, status: 200 });
    console.error(`  hello world (after): ${describeLoad(baselineAfter)}`);
    const baseline = (baselineBefore.rps + baselineAfter.rps) / 2;
    row(
      "bare graphql-yoga hello world (baseline)",
      "—",
      `${Math.round(baseline)} req/s (before ${Math.round(baselineBefore.rps)}, after ${Math.round(baselineAfter.rps)}), p99 ${ms(Math.max(baselineBefore.p99, baselineAfter.p99))}`,
      null,
    );
    const clean = (l: Load) => l.errors === 0 && l.unexpected === 0;
    const shown = (name: keyof typeof measured) =>
      `${describeLoad(measured[name], baseline)}; ${perRequest.get(name)} SQL statements/request`;
    const ratioGoal = (metric: string, name: keyof typeof measured, share: number, p99?: number) => {
      const l = measured[name];
      row(
        metric,
        `≥ ${share * 100}% of baseline${p99 ? `, p99 ≤ ${p99} ms` : ""}`,
        shown(name),
        clean(l) && l.rps >= share * baseline && (p99 === undefined || l.p99 <= p99),
      );
    };
    ratioGoal("authorizeTask, governed, with a grant", "granted", 0.5, 25);
    ratioGoal("authorizeTask, governed, no grant", "notGranted", 0.5, 25);
    row("authorizeTask, ungoverned", "— (shown)", shown("ungoverned"), null);
    ratioGoal("{ me { email } }", "me", 0.6);
    row("{ __typename }", "— (shown)", shown("typename"), null);
    row("no token (401)", "— (shown)", shown("unauthenticated"), null);
    const executions = await db.taskExecution.count();
    console.error(`  ${executions} executions logged`);
  } finally {
    await hello.stop();
    const exit = await stopMeasured("API", "http", api);
    if (exit.code !== 0) console.error(`the API exited with ${JSON.stringify(exit)}:\n${api.output().slice(-4000)}`);
    await rm(keyFile, { force: true });
  }
}
