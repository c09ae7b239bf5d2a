// The mail flow part of `npm run bench`: createAccessRequest over HTTP at 20 a second,
// each mailing the 5 approvers of its policy, from the mutation's response to the
// message's arrival at a real SMTP server (outbox → sendMail job in a worker → SMTP).
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { print } from "graphql";
import { loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { exchangeRoleGroups, exchangeRoles } from "../../src/domain/catalog/exchange-catalog.ts";
import { createApprovalPolicy } from "../../src/domain/policies/policies.service.ts";
import { CreateRequest } from "../helpers/documents.ts";
import { contextFor, jobClient, target, uniquePrefix } from "../helpers/jobs.ts";
import { startSmtpServer } from "../helpers/mail.ts";
import { spawnApi, spawnWorker, waitFor } from "../helpers/processes.ts";
import { devTokenFor } from "../helpers/tokens.ts";
import { redisUrl } from "../setup/test-env.ts";
import {
  type Db,
  entryPoint,
  type Fabrikam,
  loads,
  logErrors,
  ms,
  quantile,
  quick,
  row,
  stopMeasured,
} from "./common.ts";

const perSecond = 20;
const approvers = 5;
const roleGroup = "Organization Management";
/** A requester may have at most 10 requests waiting for a decision (the organization's default). */
const perRequester = 10;

/**
 * Bench data: approvers 3 to 5 join the seeded two in the control's admin group (the
 * policies' default approver group), and requesters enough that each files at most
 * `perRequester`, each for another task of a role group under a MANUAL policy (one open
 * request per requester and task).
 */
async function prepareMailFlow(db: Db, fabrikam: Fabrikam, requests: number) {
  const organizationId = fabrikam.admin.organizationId;
  // The task prepareFabrikam governs has a policy of its own.
  const tasks = [...new Set(exchangeRoleGroups[roleGroup]!.flatMap((role) => exchangeRoles[role] ?? []))].filter(
    (task) => task !== target,
  );
  await createApprovalPolicy(contextFor(db, fabrikam.admin), {
    type: "ROLE_GROUP",
    target: roleGroup,
    approvalType: "MANUAL",
  });
  const group = await db.approverGroup.findFirstOrThrow({
    where: { organizationId, email: "pamapprovers@fabrikam.com" },
    include: { members: true },
  });
  const extra = Array.from({ length: approvers - group.members.length }, (_, i) => ({
    email: `approver${group.members.length + i + 1}@fabrikam.com`,
    displayName: `Approver ${group.members.length + i + 1}`,
  }));
  const requesters = Array.from({ length: Math.ceil(requests / Math.min(perRequester, tasks.length)) }, (_, i) => ({
    email: `bench-requester-${i + 1}@fabrikam.com`,
    displayName: `Bench Requester ${i + 1}`,
  }));
  await db.user.createMany({
    data: [...extra, ...requesters].map((user) => ({
      ...user,
      organizationId,
      subject: randomUUID(),
      kind: "MEMBER" as const,
      roles: [],
    })),
  });
  const added = await db.user.findMany({ where: { organizationId, email: { in: extra.map((u) => u.email) } } });
  await db.approverGroupMember.createMany({
    data: added.map((user) => ({ groupId: group.id, userId: user.id, organizationId })),
  });
  return { tasks, requesters: requesters.map((r) => r.email) };
}

export async function benchMailflow(db: Db, fabrikam: Fabrikam) {
  const seconds = quick ? 5 : 60;
  const requests = perSecond * seconds;
  const { tasks, requesters } = await prepareMailFlow(db, fabrikam, requests);
  const queuePrefix = uniquePrefix("bench-mailflow");
  const keyFile = path.join(tmpdir(), `elevate-bench-mailflow-${process.pid}.json`);
  const key = await loadOrCreateDevIssuerKey(keyFile);
  const tokens = await Promise.all(
    requesters.map((email) => devTokenFor(db, key, email, { issuer: "elevate-dev", audience: "elevate" })),
  );
  const smtp = await startSmtpServer();
  // This part's queues leave Redis with it (jobClient's close).
  const jobs = await jobClient(redisUrl, queuePrefix);
  const env = { SMTP_URL: smtp.url, QUOTA_REQUESTS_PER_HOUR: "1000000", LOG_LEVEL: "info" };
  const [api, worker] = await Promise.all([
    spawnApi({ redisUrl, queuePrefix, devIssuerKeyFile: keyFile, env, ...entryPoint("server") }),
    // Reconciling is the safety net, not the path measured: it stays out of the way.
    spawnWorker({ redisUrl, queuePrefix, reconcileIntervalSeconds: 30, env, ...entryPoint("worker") }),
  ]);
  const query = print(CreateRequest);
  /** x-request-id → when the mutation's response arrived. */
  const answeredAt = new Map<string, number>();
  const failures: string[] = [];
  try {
    const file = async (i: number) => {
      const response = await fetch(`${api.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${tokens[i % requesters.length]}` },
        body: JSON.stringify({
          query,
          variables: { input: { target: tasks[Math.floor(i / requesters.length)], reason: "bench mail flow" } },
        }),
      });
      const text = await response.text();
      const at = Date.now();
      const requestId = response.headers.get("x-request-id");
      if (response.status !== 200 || !requestId || !text.includes('"__typename":"AccessRequest"'))
        failures.push(`${response.status} ${text.slice(0, 300)}`);
      else answeredAt.set(requestId, at);
    };
    console.error(`Mail flow: ${requests} requests at ${perSecond}/s, ${approvers} approvers each`);
    loads.push(loadavg()[0]!);
    // At a fixed rate whatever the answers take: each starts at its own time.
    const started = Date.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < requests; i++) {
      const wait = started + (i * 1000) / perSecond - Date.now();
      if (wait > 0) await sleep(wait);
      inFlight.push(file(i));
    }
    await Promise.all(inFlight);
    loads.push(loadavg()[0]!);
    const expected = answeredAt.size * approvers;
    const mine = () => smtp.received.filter((mail) => mail.requestId && answeredAt.has(mail.requestId));
    // Late is measured, not refused: wait long enough to see how late.
    await waitFor("every approval mail", async () => mine().length >= expected, {
      timeoutMs: 60_000,
      intervalMs: 200,
    }).catch(() => {});
    const arrived = mine();
    const delays = arrived.map((mail) => mail.at - answeredAt.get(mail.requestId!)!).sort((a, b) => a - b);
    const perRequest = new Map<string, Set<string>>();
    for (const mail of arrived)
      perRequest.set(mail.requestId!, (perRequest.get(mail.requestId!) ?? new Set()).add(mail.to));
    const missing = [...answeredAt.keys()].reduce(
      (sum, id) => sum + Math.max(0, approvers - (perRequest.get(id)?.size ?? 0)),
      0,
    );
    const duplicates = arrived.length - [...perRequest.values()].reduce((sum, to) => sum + to.size, 0);
    const p99 = quantile(delays, 0.99);
    row(
      `mail: ${perSecond} requests/s × ${approvers} approvers for ${seconds} s, response → SMTP arrival`,
      "p99 ≤ 1 s, none missing",
      `p50 ${ms(quantile(delays, 0.5))}, p99 ${ms(p99)}, max ${ms(delays.at(-1) ?? Number.NaN)}; ${arrived.length} of ${expected} arrived, ${missing} missing, ${duplicates} duplicates; ${failures.length} mutations failed`,
      p99 <= 1000 && missing === 0 && duplicates === 0 && failures.length === 0,
    );
    if (failures.length) {
      console.error(`  failed mutations (first 3): ${failures.slice(0, 3).join("\n")}`);
      logErrors("API", api);
    }
  } finally {
    const exits = [await stopMeasured("API", "mailflow", api), await stopMeasured("worker", "mailflow", worker)];
    for (const [name, exit, service] of [
      ["API", exits[0], api],
      ["worker", exits[1], worker],
    ] as const)
      if (exit!.code !== 0)
        console.error(`the ${name} exited with ${JSON.stringify(exit)}:\n${service.output().slice(-4000)}`);
    await smtp.close();
    await jobs.close();
    await rm(keyFile, { force: true });
  }
}
