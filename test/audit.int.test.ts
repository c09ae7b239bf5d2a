import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCheckpoint } from "../src/domain/audit/checkpoints.service.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { testAuditKeys } from "./helpers/audit-keys.ts";
import { AuditLog } from "./helpers/documents.ts";
import { approve, checkTask, createPolicy, createRequest, enableControl } from "./helpers/fixtures.ts";
import { seededAuditActions } from "./helpers/seed.ts";

let t: TestApp;
let fabrikamId: string;
beforeAll(async () => {
  t = await startTestApp();
  fabrikamId = (await t.db.organization.findUniqueOrThrow({ where: { name: "Fabrikam" } })).id;
  await enableControl(t);
  await createPolicy(t, { target: "Exchange\\New-MoveRequest", approvalType: "MANUAL" });
  for (let index = 0; index < 3; index++) {
    await approve(t, await createRequest(t, "Exchange\\New-MoveRequest"));
  }
  await checkTask(t, "requester@fabrikam.com", "Exchange\\New-MoveRequest");
  await issueCheckpoint(t.db, testAuditKeys, fabrikamId, new Date());
});
afterAll(() => t.close());

async function verify(as = "auditor@fabrikam.com") {
  return (await t.as(as, AuditLog)).verifyAuditLog;
}

/** What a database superuser can do that the application's own writes never could. */
async function asSuperuser(statement: () => Promise<unknown>) {
  await t.db.$executeRawUnsafe(`ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_append_only"`);
  try {
    await statement();
  } finally {
    await t.db.$executeRawUnsafe(`ALTER TABLE "AuditEvent" ENABLE TRIGGER "AuditEvent_append_only"`);
  }
}

describe("the audit chain", () => {
  it("links every event to the previous one, in sequence, per organization, each with its MAC", async () => {
    const log = (await t.as("auditor@fabrikam.com", AuditLog)).auditEvents;
    expect(log.edges.map((edge) => edge.node.sequence)).toEqual(Array.from({ length: 10 }, (_, index) => index + 1));
    expect(log.edges.slice(0, 2).map((edge) => edge.node.action)).toEqual(seededAuditActions);
    expect(log.edges[4]?.node).toMatchObject({
      action: "New-ElevatedAccessRequest",
      actor: { email: "requester@fabrikam.com" },
    });
    expect(await t.db.auditEvent.count({ where: { organizationId: fabrikamId, mac: null } })).toBe(0);
    expect(await verify()).toMatchObject({
      ok: true,
      checked: 10,
      firstBrokenSequence: null,
      truncated: false,
      checkpoints: 1,
    });
    // Contoso has a chain of its own.
    expect(await verify("admin@contoso.com")).toMatchObject({ ok: true, checked: 2, firstBrokenSequence: null });
  });

  it("refuses UPDATE, DELETE and TRUNCATE of events, executions and checkpoints in the database itself", async () => {
    const executions = await t.db.taskExecution.findMany({ orderBy: { id: "asc" } });
    expect(executions.length).toBeGreaterThan(0);
    for (const statement of [
      `UPDATE "AuditEvent" SET action = 'Disable-ElevatedAccessControl' WHERE sequence = 2`,
      `DELETE FROM "AuditEvent" WHERE sequence = 8`,
      `TRUNCATE "AuditEvent" CASCADE`,
      `UPDATE "TaskExecution" SET allowed = NOT allowed`,
      `DELETE FROM "TaskExecution"`,
      `TRUNCATE "TaskExecution"`,
      `DELETE FROM "AuditCheckpoint"`,
    ]) {
      await expect(t.db.$executeRawUnsafe(statement), statement).rejects.toThrow(/append-only/);
    }
    expect(await verify()).toMatchObject({ ok: true, checked: 10 });
    expect(await t.db.taskExecution.findMany({ orderBy: { id: "asc" } })).toEqual(executions);
  });

  it("names an edited middle event", async () => {
    await asSuperuser(
      () => t.db.$executeRaw`
        UPDATE "AuditEvent" SET details = jsonb_set(details, '{reason}', '"nothing to see"')
        WHERE "organizationId" = ${fabrikamId}::uuid AND sequence = 7`,
    );
    expect(await verify()).toMatchObject({ ok: false, checked: 6, firstBrokenSequence: 7 });
  });

  it("names a deleted middle event", async () => {
    // Sequence 7 is still edited: the deleted 5 comes first, so it is the one named.
    await asSuperuser(
      () => t.db.$executeRaw`DELETE FROM "AuditEvent" WHERE "organizationId" = ${fabrikamId}::uuid AND sequence = 5`,
    );
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.firstBrokenSequence).toBe(5);
  });
});
