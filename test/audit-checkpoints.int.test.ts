import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditLog } from "../src/domain/audit/audit.service.ts";
import { chainHash, genesisHash } from "../src/domain/audit/audit-chain.ts";
import { issueCheckpoint } from "../src/domain/audit/checkpoints.service.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { testAuditKeys } from "./helpers/audit-keys.ts";
import { AddMembers, CreateApproverGroup, EnableControl } from "./helpers/documents.ts";
import { approve, checkTask, createPolicy, createRequest, enableControl } from "./helpers/fixtures.ts";

// Issue 10: a database superuser who drops the triggers, deletes the newest events or
// rewrites one with recomputed hashes, or edits an execution, is found by verifyAuditLog
// (with AUDIT_KEY) and by the offline verifier (with the checkpoint public key alone).

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

let t: TestApp;
let baseUrl: string;
let dir: string;
let publicKeyFile: string;
const org: Record<"Fabrikam" | "Contoso", string> = { Fabrikam: "", Contoso: "" };

beforeAll(async () => {
  t = await startTestApp();
  t.app.server.listen(0, "127.0.0.1");
  await once(t.app.server, "listening");
  baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  dir = await mkdtemp(path.join(tmpdir(), "elevate-audit-"));
  publicKeyFile = path.join(dir, "checkpoint-key.pem");
  await writeFile(publicKeyFile, testAuditKeys.publicKey.export({ type: "spki", format: "pem" }));
  for (const name of ["Fabrikam", "Contoso"] as const) {
    org[name] = (await t.db.organization.findUniqueOrThrow({ where: { name } })).id;
  }

  // Fabrikam: events and executions.
  await enableControl(t);
  await createPolicy(t, { target: "Exchange\\New-MoveRequest", approvalType: "MANUAL" });
  await approve(t, await createRequest(t, "Exchange\\New-MoveRequest"));
  for (let index = 0; index < 4; index++) await checkTask(t, "requester@fabrikam.com", "Exchange\\New-MoveRequest");
  // Contoso: a trail of its own.
  await t.as("admin@contoso.com", CreateApproverGroup, {
    input: { name: "Contoso Approvers", email: "approvers@contoso.com", memberEmails: [] },
  });
  const group = await t.db.approverGroup.findFirstOrThrow({ where: { email: "approvers@contoso.com" } });
  await t.as("admin@contoso.com", AddMembers, { input: { groupId: group.id, emails: ["admin@contoso.com"] } });
  await t.as("admin@contoso.com", EnableControl, { input: { adminGroup: "approvers@contoso.com" } });

  // Executions settle a minute before they are sealed: sign as if two minutes had passed.
  const later = new Date(Date.now() + 120_000);
  for (const id of Object.values(org)) expect(await issueCheckpoint(t.db, testAuditKeys, id, later)).toBe(1);
});
afterAll(async () => {
  t.app.server.close();
  await t.close();
});

async function superuser(table: "AuditEvent" | "TaskExecution", statement: () => Promise<unknown>) {
  await t.db.$executeRawUnsafe(`ALTER TABLE "${table}" DISABLE TRIGGER "${table}_append_only"`);
  try {
    await statement();
  } finally {
    await t.db.$executeRawUnsafe(`ALTER TABLE "${table}" ENABLE TRIGGER "${table}_append_only"`);
  }
}

/** GET /audit/export as the organization's reader, then the offline verifier on the file. */
async function offline(as: string) {
  const response = await fetch(`${baseUrl}/audit/export`, {
    headers: { authorization: `Bearer ${await t.tokenFor(as)}` },
  });
  expect(response.status).toBe(200);
  const file = path.join(dir, `${as}-${Date.now()}.ndjson`);
  await writeFile(file, await response.text());
  try {
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "scripts/verify-audit-export.ts", "--public-key", publicKeyFile, file],
      { cwd: repoRoot },
    );
    return { exitCode: 0, report: JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { exitCode: failed.code, report: JSON.parse(failed.stdout) };
  }
}

describe("checkpoints", () => {
  it("verify an intact trail online and offline", async () => {
    expect(await verifyAuditLog(t.db, testAuditKeys, org.Fabrikam)).toMatchObject({
      ok: true,
      checkpoints: 1,
      executionsChecked: 4,
    });
    expect(await offline("auditor@fabrikam.com")).toMatchObject({
      exitCode: 0,
      report: { ok: true, executionsChecked: 4 },
    });
  });

  it("refuse an export to anyone but admins and auditors", async () => {
    for (const [token, status] of [
      [await t.tokenFor("requester@fabrikam.com"), 403],
      ["not-a-token", 401],
    ] as const) {
      const response = await fetch(`${baseUrl}/audit/export`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(status);
    }
  });

  it("find executions edited below a checkpoint", async () => {
    await superuser(
      "TaskExecution",
      () =>
        t.db.$executeRaw`UPDATE "TaskExecution" SET allowed = NOT allowed
        WHERE id = (SELECT id FROM "TaskExecution" WHERE "organizationId" = ${org.Fabrikam}::uuid ORDER BY at LIMIT 1)`,
    );
    expect(await verifyAuditLog(t.db, testAuditKeys, org.Fabrikam)).toMatchObject({
      ok: false,
      firstBrokenCheckpoint: 1,
    });
    expect(await offline("auditor@fabrikam.com")).toMatchObject({
      exitCode: 1,
      report: { ok: false, firstBrokenCheckpoint: 1 },
    });
  });

  it("find the newest events deleted below the newest checkpoint", async () => {
    const { auditSequence } = await t.db.auditCheckpoint.findFirstOrThrow({ where: { organizationId: org.Fabrikam } });
    await superuser(
      "AuditEvent",
      () =>
        t.db
          .$executeRaw`DELETE FROM "AuditEvent" WHERE "organizationId" = ${org.Fabrikam}::uuid AND sequence >= ${auditSequence - 1}`,
    );
    expect(await verifyAuditLog(t.db, testAuditKeys, org.Fabrikam)).toMatchObject({
      ok: false,
      truncated: true,
      firstBrokenSequence: auditSequence - 1,
    });
    expect(await offline("auditor@fabrikam.com")).toMatchObject({
      exitCode: 1,
      report: { ok: false, truncated: true },
    });
  });

  it("find an event rewritten with recomputed hashes: online by its MAC, offline by the checkpoint", async () => {
    const events = await t.db.auditEvent.findMany({
      where: { organizationId: org.Contoso },
      orderBy: { sequence: "asc" },
    });
    expect(events.length).toBeGreaterThanOrEqual(3);
    // The superuser's rewrite: event 2 now says the control was disabled, and every later
    // hash is recomputed with the public hash function, so the chain links again.
    let prevHash = events[0]?.hash ?? genesisHash;
    await superuser("AuditEvent", async () => {
      for (const event of events.slice(1)) {
        const rewritten = event.sequence === 2 ? { ...event, action: "Disable-ElevatedAccessControl" } : event;
        const hash = chainHash(prevHash, rewritten);
        await t.db
          .$executeRaw`UPDATE "AuditEvent" SET action = ${rewritten.action}, "prevHash" = ${prevHash}, hash = ${hash}
          WHERE id = ${event.id}::uuid`;
        prevHash = hash;
      }
    });
    expect(await verifyAuditLog(t.db, testAuditKeys, org.Contoso)).toMatchObject({ ok: false, firstBrokenSequence: 2 });
    const { report, exitCode } = await offline("admin@contoso.com");
    expect(exitCode).toBe(1);
    expect(report).toMatchObject({ ok: false, firstBrokenSequence: events.at(-1)!.sequence });
    expect(report.problems.join("\n")).toMatch(/not the event checkpoint 1 signed/);
  });
});
