// The lists part of `npm run bench`: Fabrikam with 1,000,000 access requests, 5,000,000
// task executions and 1,000,000 audit events (quick mode: 20,000/100,000/20,000), the
// first page of each list and filter of the API (p99 ≤ 20 ms), and authorizeTask on that
// database against the same call on the empty one (within 10%). The plans of the SQL
// each list sends go to a log file (EXPLAIN ANALYZE, BUFFERS) for docs/benchmarks.md.
// Its data stays: run it last.
import { rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { encodeGlobalId } from "../../src/domain/global-id.ts";
import { target } from "../helpers/jobs.ts";
import { statementsDuring } from "../helpers/statements.ts";
import { devTokenFor } from "../helpers/tokens.ts";
import { workerDatabaseUrl } from "../setup/test-env.ts";
import { type Db, describeLoad, type Fabrikam, graphql, load, ms, quick, row, stopMeasured } from "./common.ts";
import { authorizeBody, grantRequester, inProcessApp, spawnAuthorizingApi } from "./http.ts";

const sizes = quick
  ? { requests: 20_000, executions: 100_000, auditEvents: 20_000 }
  : { requests: 1_000_000, executions: 5_000_000, auditEvents: 1_000_000 };
const generatedUsers = 200;
const plansFile = process.env.BENCH_PLANS ?? path.join(tmpdir(), "elevate-bench-list-plans.txt");
/**
 * Lists are loaded by one connection: their goal is the latency one reader sees. At 32
 * connections on two shared cores queueing alone puts p99 far past 20 ms (the bare hello
 * world's p99 is 28–105 ms there), whatever the database does.
 */
const listConnections = 1;
const loadNow = () => loadavg()[0]!.toFixed(1);

/**
 * The rows, generated in SQL on one session. Times spread over the last year and IDs are
 * UUIDv7 of those times (as the product's own are), so ID order is time order. Requests
 * of the last 20 hours are mostly PENDING, older ones APPROVED 60%, DENIED 20%, EXPIRED
 * 15%, CANCELED 5%; 2% are Customer Lockbox requests; ten tasks; 200 generated requesters
 * and the seeded ones. Every APPROVED request has its grant (ACTIVE until its end, then
 * ENDED). Executions: 60% allowed under a grant, 30% refused, 10% ungoverned; a third
 * through the enforcement service. Audit events continue Fabrikam's sequence and link each
 * prevHash to the hash before, but their hashes are not the chain's (no MACs either):
 * verifyAuditLog reports them broken. The head they leave (the highest sequence, what an
 * append reads) is well-formed, so later appends work.
 */
async function generate(db: Db, fabrikam: Fabrikam) {
  const organizationId = fabrikam.admin.organizationId;
  const client = new pg.Client({ connectionString: workerDatabaseUrl() });
  await client.connect();
  const step = async (what: string, sql: string, values: unknown[] = []) => {
    const started = performance.now();
    const result = await client.query(sql, values);
    console.error(`  ${what}: ${result.rowCount ?? ""} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };
  try {
    const group = await db.approverGroup.findFirstOrThrow({
      where: { organizationId, email: "pamapprovers@fabrikam.com" },
    });
    const enforcer = await db.user.findFirstOrThrow({ where: { organizationId, email: "enforcer@fabrikam.com" } });
    // The rows are built to satisfy their foreign keys; checking them row by row took most
    // of the 5 minutes that 5M executions took (replica mode skips those triggers; the
    // bench connects as the superuser that may set it).
    await client.query("SET session_replication_role = replica");
    await client.query(`CREATE FUNCTION pg_temp.uuid7(t timestamptz, r text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
      SELECT (lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') || '7' || substr(r, 1, 3) || '8' || substr(r, 4, 15))::uuid $$`);
    await step(
      "users",
      `INSERT INTO "User" (id, "organizationId", subject, email, "displayName")
       SELECT gen_random_uuid(), $1, 'bench-' || g, 'user' || g || '@fabrikam.com', 'Bench User ' || g
       FROM generate_series(1, $2) g`,
      [organizationId, generatedUsers],
    );
    await client.query(
      `CREATE TEMP TABLE bench_people AS SELECT array_agg(id ORDER BY email) ids, count(*)::int n FROM "User"
       WHERE "organizationId" = $1 AND kind = 'MEMBER'`,
      [organizationId],
    );
    await client.query(
      `CREATE TEMP TABLE bench_tasks AS SELECT array_agg(id ORDER BY key) ids, array_agg(name ORDER BY key) names, count(*)::int n
       FROM (SELECT id, key, name FROM "CatalogEntry" WHERE "organizationId" = $1 AND type = 'TASK' ORDER BY key = $2 DESC, key LIMIT 10) t`,
      [organizationId, "exchange\\new-moverequest"],
    );
    await step(
      "access requests",
      `INSERT INTO "AccessRequest" (id, "organizationId", "requesterId", kind, "approvalType", "approverGroupId",
         "requiredApprovals", type, scope, target, "catalogEntryId", reason, "durationHours", status, "createdAt",
         "expiresAt", "decidedAt")
       SELECT pg_temp.uuid7(c, md5(g::text)), $1, p.ids[1 + (g * 31) % p.n],
         CASE WHEN g % 50 = 0 THEN 'CUSTOMER_LOCKBOX' ELSE 'STANDARD' END::"AccessRequestKind", 'MANUAL', $2, 1,
         'TASK', 'EXCHANGE', t.names[1 + (g * 17) % t.n], t.ids[1 + (g * 17) % t.n], 'bench', 4, s, c,
         c + interval '24 hours', CASE WHEN s IN ('PENDING', 'EXPIRED') THEN NULL ELSE c + interval '1 minute' * h END
       FROM (SELECT g, (g::bigint * 7919 % 100)::int h, now() - interval '365 days' * (1 - g::float8 / $3) c
             FROM generate_series(1, $3) g) x
       CROSS JOIN bench_people p CROSS JOIN bench_tasks t
       CROSS JOIN LATERAL (SELECT (CASE
         WHEN c > now() - interval '20 hours' THEN CASE WHEN h < 70 THEN 'PENDING' ELSE 'APPROVED' END
         WHEN h < 60 THEN 'APPROVED' WHEN h < 80 THEN 'DENIED' WHEN h < 95 THEN 'EXPIRED' ELSE 'CANCELED'
         END)::"AccessRequestStatus" s) st`,
      [organizationId, group.id, sizes.requests],
    );
    await step(
      "grants of the approved requests",
      `INSERT INTO "AccessAuthorization" (id, "organizationId", "requestId", "userId", "catalogEntryId", type, target,
         "startsAt", "endsAt", status, "endedAt")
       SELECT pg_temp.uuid7("decidedAt", md5(id::text)), "organizationId", id, "requesterId", "catalogEntryId", type, target,
         "decidedAt", "decidedAt" + interval '4 hours',
         CASE WHEN "decidedAt" + interval '4 hours' > now() THEN 'ACTIVE' ELSE 'ENDED' END::"AuthorizationStatus",
         CASE WHEN "decidedAt" + interval '4 hours' > now() THEN NULL ELSE "decidedAt" + interval '4 hours' END
       FROM "AccessRequest" WHERE "organizationId" = $1 AND reason = 'bench' AND status = 'APPROVED'`,
      [organizationId],
    );
    await client.query(
      `CREATE TEMP TABLE bench_grants AS SELECT row_number() OVER (ORDER BY id)::int rn, id, "userId", target
       FROM "AccessAuthorization" WHERE "organizationId" = $1`,
      [organizationId],
    );
    await client.query("CREATE UNIQUE INDEX ON bench_grants (rn)");
    await step(
      "task executions",
      `INSERT INTO "TaskExecution" (id, "organizationId", "userId", "callerId", task, "resolvedTask", allowed, reason,
         "authorizationId", at)
       SELECT pg_temp.uuid7(t, md5(g::text)), $1, a."userId", CASE WHEN g % 3 = 0 THEN $2::uuid ELSE a."userId" END,
         a.target, a.target, h < 60,
         (CASE WHEN h < 60 THEN 'ACTIVE_AUTHORIZATION' WHEN h < 90 THEN 'NO_AUTHORIZATION' ELSE 'NOT_GOVERNED' END)::"AuthorizeReason",
         CASE WHEN h < 60 THEN a.id END, t
       FROM (SELECT g, (g::bigint * 7919 % 100)::int h, now() - interval '365 days' * (1 - g::float8 / $3) t
             FROM generate_series(1, $3) g) x
       JOIN bench_grants a ON a.rn = 1 + (x.g * 31) % (SELECT count(*) FROM bench_grants)`,
      [organizationId, enforcer.id, sizes.executions],
    );
    // A year of history appended after the seed's events, which were written a moment ago,
    // would be a chain whose times run a year backwards; an organization's chain runs
    // forwards (chainAt in prisma/schema.prisma), so the seed's events move to the year's start.
    await client.query(
      `UPDATE "AuditEvent" SET at = at - interval '366 days', "chainAt" = "chainAt" - interval '366 days'
       WHERE "organizationId" = $1`,
      [organizationId],
    );
    const head = await db.auditEvent.findFirstOrThrow({ where: { organizationId }, orderBy: { sequence: "desc" } });
    const hash = (n: string) => `encode(sha256(('bench ' || ${n})::bytea), 'hex')`;
    await step(
      "audit events",
      `INSERT INTO "AuditEvent" (id, "organizationId", sequence, at, "chainAt", "actorId", action, "subjectId", details,
         "prevHash", hash)
       SELECT pg_temp.uuid7(t, md5(g::text)), $1, $2 + g, t, GREATEST(t, $5), p.ids[1 + (g * 31) % p.n],
         CASE WHEN h < 35 THEN 'New-ElevatedAccessRequest' WHEN h < 60 THEN 'Approve-ElevatedAccessRequest'
              WHEN h < 68 THEN 'Deny-ElevatedAccessRequest' WHEN h < 83 THEN 'Expire-ElevatedAccessRequest'
              WHEN h < 90 THEN 'End-ElevatedAccessAuthorization' WHEN h < 95 THEN 'Cancel-ElevatedAccessRequest'
              WHEN h < 99 THEN 'Revoke-ElevatedAccessAuthorization' ELSE 'Set-ElevatedAccessApprovalPolicy' END,
         md5('bench ' || g / 3)::uuid::text, jsonb_build_object('reason', 'bench'),
         CASE WHEN g = 1 THEN $3 ELSE ${hash("(g - 1)")} END, ${hash("g")}
       FROM (SELECT g, (g::bigint * 7919 % 100)::int h, now() - interval '365 days' * (1 - g::float8 / $4) t
             FROM generate_series(1, $4) g) x
       CROSS JOIN bench_people p`,
      [organizationId, head.sequence, head.hash, sizes.auditEvents, head.chainAt],
    );
    // What autovacuum would have done by the time a database grows this big: statistics,
    // and the visibility map that index-only scans need.
    await step(
      "VACUUM ANALYZE",
      `VACUUM (ANALYZE) "AccessRequest", "AccessAuthorization", "TaskExecution", "AuditEvent", "User"`,
    );
  } finally {
    await client.end();
  }
}

interface List {
  name: string;
  /** The reader: the admin unless named. */
  as?: "auditor" | "approver" | "requester";
  query: string;
  variables?: Record<string, unknown>;
}

// First pages at the API's default size (20), with what a list screen shows of each item.
const requestFields = "id status kind target createdAt requester { id displayName }";
const page = (field: string, args: string, fields: string) =>
  `{ ${field}${args ? `(${args})` : ""} { pageInfo { hasNextPage endCursor } edges { node { ${fields} } } } }`;

function lists(ids: { requester: string; approver: string; subject: string; from: string }): List[] {
  const requests = (args: string) => page("accessRequests", args, requestFields);
  const authorizations = (args: string) =>
    page("accessAuthorizations", args, "id status target startsAt endsAt user { id displayName }");
  const executions = page("taskExecutions", "", "id task allowed reason at user { id displayName }");
  const audit = (args: string) => page("auditEvents", args, "id sequence at action subjectId actor { id displayName }");
  return [
    { name: "accessRequests", query: requests("") },
    { name: "accessRequests, status PENDING", query: requests("filter: { status: [PENDING] }") },
    { name: "accessRequests, status APPROVED", query: requests("filter: { status: [APPROVED] }") },
    { name: "accessRequests, status DENIED or CANCELED", query: requests("filter: { status: [DENIED, CANCELED] }") },
    { name: "accessRequests, requesterEmail", query: requests('filter: { requesterEmail: "requester@fabrikam.com" }') },
    { name: "accessRequests, target", query: requests(`filter: { target: ${JSON.stringify(target)} }`) },
    { name: "accessRequests, kind CUSTOMER_LOCKBOX", query: requests("filter: { kind: CUSTOMER_LOCKBOX }") },
    {
      name: "accessRequests, awaitingMyDecision (approver)",
      as: "approver",
      query: requests("filter: { awaitingMyDecision: true }"),
    },
    { name: "accessRequests, the requester's own", as: "requester", query: requests("") },
    {
      name: "accessRequests with totalCount (the console's)",
      query: `{ accessRequests { totalCount edges { node { ${requestFields} } } } }`,
    },
    { name: "accessAuthorizations", query: authorizations("") },
    { name: "accessAuthorizations, status ACTIVE", query: authorizations("status: [ACTIVE]") },
    { name: "accessAuthorizations, userId", query: authorizations(`userId: "${ids.requester}"`) },
    { name: "taskExecutions", query: executions },
    { name: "taskExecutions (auditor)", as: "auditor", query: executions },
    { name: "taskExecutions, the requester's own", as: "requester", query: executions },
    { name: "auditEvents (auditor)", as: "auditor", query: audit("") },
    { name: "auditEvents, NEWEST_FIRST", as: "auditor", query: audit("order: NEWEST_FIRST") },
    {
      name: "auditEvents, actions",
      as: "auditor",
      query: audit('filter: { actions: ["Deny-ElevatedAccessRequest"] }'),
    },
    { name: "auditEvents, actorId", as: "auditor", query: audit(`filter: { actorId: "${ids.approver}" }`) },
    { name: "auditEvents, subjectId", as: "auditor", query: audit(`filter: { subjectId: "${ids.subject}" }`) },
    { name: "auditEvents, from (last 7 days)", as: "auditor", query: audit(`filter: { from: "${ids.from}" }`) },
    {
      name: "auditEvents, from, NEWEST_FIRST",
      as: "auditor",
      query: audit(`filter: { from: "${ids.from}" }, order: NEWEST_FIRST`),
    },
  ];
}

/** EXPLAIN (ANALYZE, BUFFERS) of each statement one request of `list` sends, run in this process's app. */
async function explain(send: (body: string, token: string) => Promise<string>, body: string, token: string) {
  const { sent } = await statementsDuring(() => send(body, token));
  const client = new pg.Client({ connectionString: workerDatabaseUrl() });
  await client.connect();
  try {
    const plans: string[] = [];
    for (const { text, values } of sent.filter((s) => /^\s*SELECT/i.test(s.text))) {
      const result = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values);
      plans.push(`${text}\n-- ${JSON.stringify(values)}\n${result.rows.map((r) => r["QUERY PLAN"]).join("\n")}`);
    }
    return plans.join("\n\n");
  } finally {
    await client.end();
  }
}

export async function benchLists(db: Db, fabrikam: Fabrikam, queuePrefix: string) {
  const keyFile = path.join(tmpdir(), `elevate-bench-lists-issuer-${process.pid}.json`);
  const key = await loadOrCreateDevIssuerKey(keyFile);
  await grantRequester(db, fabrikam);
  const tokenFor = (email: string) =>
    devTokenFor(db, key, email, { issuer: "elevate-dev", audience: "elevate", expiresIn: 4 * 3600 });
  const tokens = {
    admin: await tokenFor("admin@fabrikam.com"),
    auditor: await tokenFor("auditor@fabrikam.com"),
    approver: await tokenFor("approver1@fabrikam.com"),
    requester: await tokenFor("requester@fabrikam.com"),
  };
  const api = await spawnAuthorizingApi(queuePrefix, keyFile);
  const graphqlUrl = `${api.url}/graphql`;
  const app = inProcessApp(key);
  try {
    const authorize = async () => {
      const answer = await graphql(graphqlUrl, authorizeBody(target), tokens.requester);
      if (!JSON.stringify(answer.json).includes('"ACTIVE_AUTHORIZATION"')) throw new Error(JSON.stringify(answer));
      const measured = await load({
        url: graphqlUrl,
        body: authorizeBody(target),
        token: tokens.requester,
        status: 200,
      });
      console.error(`  authorizeTask, governed, granted: ${describeLoad(measured)} (load ${loadNow()})`);
      return measured;
    };
    // Once to warm the API up (its first seconds run cold code), then measured.
    await authorize();
    const emptyLoad = loadNow();
    const empty = await authorize();

    console.error(
      `Generating ${sizes.requests} requests, ${sizes.executions} executions, ${sizes.auditEvents} audit events (load ${loadNow()})`,
    );
    const started = performance.now();
    await generate(db, fabrikam);
    const generation = (performance.now() - started) / 1000;
    const [requests, executions, auditEvents] = await Promise.all([
      db.accessRequest.count({ where: { organizationId: fabrikam.admin.organizationId } }),
      db.taskExecution.count({ where: { organizationId: fabrikam.admin.organizationId } }),
      db.auditEvent.count({ where: { organizationId: fabrikam.admin.organizationId } }),
    ]);
    row(
      "lists: data generated in SQL",
      "—",
      `${requests} requests, ${executions} executions, ${auditEvents} audit events in ${generation.toFixed(0)} s`,
      null,
    );

    const approver = await db.user.findFirstOrThrow({ where: { email: "approver1@fabrikam.com" } });
    const middle = await db.auditEvent.findFirstOrThrow({
      where: { organizationId: fabrikam.admin.organizationId, action: "Approve-ElevatedAccessRequest" },
      orderBy: { sequence: "desc" },
      skip: Math.floor(sizes.auditEvents / 8),
    });
    const all = lists({
      requester: encodeGlobalId("User", fabrikam.requester.id),
      approver: encodeGlobalId("User", approver.id),
      subject: encodeGlobalId("AccessRequest", middle.subjectId!),
      from: new Date(Date.now() - 7 * 86_400_000).toISOString(),
    });
    const plans: string[] = [];
    for (const list of all) {
      const body = JSON.stringify({ query: list.query, variables: list.variables });
      const token = tokens[list.as ?? "admin"];
      const answer = await graphql(graphqlUrl, body, token);
      const data = (answer.json as { data?: Record<string, { edges?: unknown[] }>; errors?: unknown }).data;
      const edges = data && Object.values(data)[0]?.edges;
      if (answer.status !== 200 || !edges || (answer.json as { errors?: unknown }).errors)
        throw new Error(`${list.name}: ${JSON.stringify(answer.json).slice(0, 1000)}`);
      plans.push(
        `### ${list.name} (${list.as ?? "admin"}; ${edges.length} items)\n${await explain(app.send, body, token)}`,
      );
      const measured = await load({ url: graphqlUrl, body, token, status: 200 }, listConnections);
      const shownOnly = list.name.includes("totalCount");
      row(
        `list: ${list.name}${list.as ? "" : " (admin)"}`,
        shownOnly ? "— (shown)" : "p99 ≤ 20 ms",
        `${describeLoad(measured)}; ${edges.length} items; load ${loadNow()}`,
        shownOnly ? null : measured.errors === 0 && measured.unexpected === 0 && measured.p99 <= 20,
      );
    }
    await writeFile(plansFile, `${plans.join("\n\n")}\n`);
    console.error(`  plans of the lists' SQL: ${plansFile}`);

    const full = await authorize();
    row(
      "authorizeTask, governed, granted: full database vs empty",
      "≥ 90% of empty",
      `${Math.round(full.rps)} req/s (load ${loadNow()}) vs ${Math.round(empty.rps)} req/s (load ${emptyLoad}): ${((100 * full.rps) / empty.rps).toFixed(0)}%, p99 ${ms(full.p99)} vs ${ms(empty.p99)}`,
      full.errors === 0 && full.unexpected === 0 && full.rps >= 0.9 * empty.rps,
    );
  } finally {
    await app.stop();
    const exit = await stopMeasured("API", "lists", api);
    if (exit.code !== 0) console.error(`the API exited with ${JSON.stringify(exit)}:\n${api.output().slice(-4000)}`);
    await rm(keyFile, { force: true });
  }
}
