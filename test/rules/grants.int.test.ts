import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endAccessAuthorization } from "../../src/domain/authorizations/authorizations.service.ts";
import { serviceContext } from "../../src/domain/context.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { testAuditKeys } from "../helpers/audit-keys.ts";
import { RevokeAuthorization } from "../helpers/documents.ts";
import {
  approve,
  checkTask,
  createPolicy,
  createRequest,
  enableControl,
  rawId,
  targetsOf,
} from "../helpers/fixtures.ts";

// The API's clock: every rule about time reads it. Null: the real time.
let now: Date | null = null;
const clock = () => now ?? new Date();

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ clock });
  await enableControl(t);
  await createPolicy(t, { type: "ROLE_GROUP", target: "Recipient Management", approvalType: "MANUAL" });
  // A member of the organization who is neither the requester nor an approver.
  const org = await t.db.organization.findFirstOrThrow({
    where: { users: { some: { email: "requester@fabrikam.com" } } },
  });
  await t.db.user.create({
    data: {
      organizationId: org.id,
      email: "bystander@fabrikam.com",
      displayName: "Bea Bystander",
      subject: randomUUID(),
    },
  });
});
afterAll(() => t.close());

const nextTarget = targetsOf("Recipient Management");

/** An approved request of requester@ and the task its grant covers. */
async function grant() {
  const target = nextTarget();
  const requestId = await createRequest(t, target);
  expect(await approve(t, requestId)).toMatchObject({ status: "APPROVED", authorization: { status: "ACTIVE" } });
  return { requestId, target };
}

async function revoke(as: string, requestId: string) {
  return (await t.as(as, RevokeAuthorization, { input: { requestId, comment: "incident closed" } }))
    .revokeAccessAuthorization;
}

describe("authorizeTask and the grant's window", () => {
  it("refuses an ACTIVE grant whose endsAt has passed, before any job has ended it", async () => {
    const { requestId, target } = await grant();
    expect(await checkTask(t, "requester@fabrikam.com", target)).toMatchObject({
      allowed: true,
      reason: "ACTIVE_AUTHORIZATION",
    });
    const row = await t.db.accessAuthorization.findUniqueOrThrow({ where: { requestId: rawId(requestId) } });
    try {
      // One millisecond past the end: no job has run (this app has no workers), the row still says ACTIVE.
      now = new Date(row.endsAt.getTime() + 1);
      expect(await checkTask(t, "requester@fabrikam.com", target)).toMatchObject({
        allowed: false,
        reason: "NO_AUTHORIZATION",
      });
      // At the very last instant before, still allowed.
      now = new Date(row.endsAt.getTime() - 1);
      expect(await checkTask(t, "requester@fabrikam.com", target)).toMatchObject({ allowed: true });
    } finally {
      now = null;
    }
    expect((await t.db.accessAuthorization.findUniqueOrThrow({ where: { id: row.id } })).status).toBe("ACTIVE");
  });
});

describe("who may revoke", () => {
  it("refuses the requester, an auditor, the enforcer, a guest and an unrelated member, changing nothing", async () => {
    const { requestId, target } = await grant();
    const auditBefore = await t.db.auditEvent.count();
    for (const who of [
      "requester@fabrikam.com",
      "auditor@fabrikam.com",
      "enforcer@fabrikam.com",
      "guest@partner.example",
      "bystander@fabrikam.com",
    ]) {
      expect(await revoke(who, requestId), who).toMatchObject({ code: "FORBIDDEN" });
    }
    const row = await t.db.accessAuthorization.findUniqueOrThrow({ where: { requestId: rawId(requestId) } });
    expect(row).toMatchObject({ status: "ACTIVE", revokedAt: null, revokedById: null });
    expect(await t.db.auditEvent.count()).toBe(auditBefore);
    expect(await t.db.emailMessage.count({ where: { requestId: rawId(requestId), template: "access-revoked" } })).toBe(
      0,
    );
    expect(await checkTask(t, "requester@fabrikam.com", target)).toMatchObject({ allowed: true });
  });

  it("lets an eligible approver of the request's group and an admin revoke", async () => {
    const byApprover = await grant();
    expect(await revoke("approver2@fabrikam.com", byApprover.requestId)).toMatchObject({
      status: "REVOKED",
      revokedBy: { email: "approver2@fabrikam.com" },
    });
    const byAdmin = await grant();
    expect(await revoke("admin@fabrikam.com", byAdmin.requestId)).toMatchObject({
      status: "REVOKED",
      revokedBy: { email: "admin@fabrikam.com" },
    });
  });
});

describe("revoking what already ended", () => {
  it("answers CONFLICT for a REVOKED grant and writes nothing more", async () => {
    const { requestId } = await grant();
    expect(await revoke("admin@fabrikam.com", requestId)).toMatchObject({ status: "REVOKED" });
    const auditBefore = await t.db.auditEvent.count();
    const again = await revoke("approver1@fabrikam.com", requestId);
    expect(again).toMatchObject({ code: "CONFLICT" });
    expect(again).toMatchObject({ message: expect.stringContaining("REVOKED") });
    const row = await t.db.accessAuthorization.findUniqueOrThrow({ where: { requestId: rawId(requestId) } });
    expect(row.revokedById).toBe((await t.db.user.findFirstOrThrow({ where: { email: "admin@fabrikam.com" } })).id);
    expect(await t.db.auditEvent.count()).toBe(auditBefore);
    expect(await t.db.emailMessage.count({ where: { requestId: rawId(requestId), template: "access-revoked" } })).toBe(
      1,
    );
  });

  it("answers CONFLICT for an ENDED grant and writes nothing more", async () => {
    const { requestId } = await grant();
    const row = await t.db.accessAuthorization.findUniqueOrThrow({ where: { requestId: rawId(requestId) } });
    // The end job's domain function, run at the grant's end by the clock it reads.
    const atEnd = serviceContext(
      { db: t.db, effects: { dispatch: async () => {} }, auditKeys: testAuditKeys, clock: () => row.endsAt },
      row.organizationId,
      null,
    );
    expect(await endAccessAuthorization(atEnd, row.id)).toEqual({ kind: "done" });
    const auditBefore = await t.db.auditEvent.count();
    const again = await revoke("admin@fabrikam.com", requestId);
    expect(again).toMatchObject({ code: "CONFLICT", message: expect.stringContaining("ENDED") });
    expect(await t.db.accessAuthorization.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({
      status: "ENDED",
      revokedAt: null,
    });
    expect(await t.db.auditEvent.count()).toBe(auditBefore);
  });
});
