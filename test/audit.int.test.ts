import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { AuditLog } from "./helpers/documents.ts";
import { approve, createPolicy, createRequest, enableControl } from "./helpers/fixtures.ts";

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
});
afterAll(() => t.close());

async function verify(as = "auditor@fabrikam.com") {
  return (await t.as(as, AuditLog)).verifyAuditLog;
}

describe("the audit chain", () => {
  it("links every event to the previous one, in sequence, per organization", async () => {
    const log = (await t.as("auditor@fabrikam.com", AuditLog)).auditEvents;
    expect(log.edges.map((edge) => edge.node.sequence)).toEqual(Array.from({ length: 8 }, (_, index) => index + 1));
    expect(log.edges[2]?.node).toMatchObject({
      action: "New-ElevatedAccessRequest",
      actor: { email: "requester@fabrikam.com" },
    });
    expect(await verify()).toEqual({ ok: true, checked: 8, firstBrokenSequence: null });
    // Contoso has a chain of its own.
    expect(await verify("admin@contoso.com")).toEqual({ ok: true, checked: 0, firstBrokenSequence: null });
  });

  it("names an edited middle event", async () => {
    await t.db.$executeRaw`
      UPDATE "AuditEvent" SET details = jsonb_set(details, '{reason}', '"nothing to see"')
      WHERE "organizationId" = ${fabrikamId}::uuid AND sequence = 5`;
    expect(await verify()).toEqual({ ok: false, checked: 4, firstBrokenSequence: 5 });
  });

  it("names a deleted middle event", async () => {
    // Sequence 5 is still edited: the deleted 3 comes first, so it is the one named.
    await t.db.$executeRaw`DELETE FROM "AuditEvent" WHERE "organizationId" = ${fabrikamId}::uuid AND sequence = 3`;
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.firstBrokenSequence).toBe(3);
  });
});
