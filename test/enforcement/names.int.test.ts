import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { AddCatalogEntry, CreatePolicy, UpdateControl } from "../helpers/documents.ts";
import { approve, checkTask, createPolicy, createRequest, enableControl, fileRequest } from "../helpers/fixtures.ts";

// Issue 9, case 2: authorizeTask answers for every spelling of a governed task exactly
// as for its canonical name; a name the catalog does not know follows the
// organization's unknownTasks setting; both are logged with what they resolved to.

const canonical = "Exchange\\New-MoveRequest";
const spellings = [
  canonical,
  "exchange\\new-moverequest",
  "EXCHANGE\\NEW-MOVEREQUEST",
  "New-MoveRequest",
  "new-moverequest",
  "Exchange/New-MoveRequest",
  " Exchange\\New-MoveRequest ",
  "Exchange\\New\u2013MoveRequest",
  "Ｅｘｃｈａｎｇｅ＼Ｎｅｗ－ＭｏｖｅＲｅｑｕｅｓｔ",
  "Exchange\\New-Move\u200BRequest",
];
const cyrillicLookAlike = "Exchange\\N\u0435w-MoveRequest";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await enableControl(t);
  await createPolicy(t, { target: canonical, approvalType: "MANUAL" });
});
afterAll(() => t.close());

describe("every spelling of a governed task", () => {
  it("is denied exactly as the canonical name, and logged as typed with what it resolved to", async () => {
    for (const task of spellings) {
      expect(await checkTask(t, "requester@fabrikam.com", task), task).toMatchObject({
        allowed: false,
        reason: "NO_AUTHORIZATION",
        execution: { task: task.trim(), resolvedTask: canonical, allowed: false },
      });
      expect(await checkTask(t, "enforcer@fabrikam.com", task, "requester@fabrikam.com"), task).toMatchObject({
        allowed: false,
        reason: "NO_AUTHORIZATION",
      });
    }
    const logged = await t.db.taskExecution.findMany({ where: { resolvedTask: canonical } });
    expect(new Set(logged.map((execution) => execution.task))).toEqual(new Set(spellings.map((task) => task.trim())));
  });

  it("is allowed under the grant in every spelling", async () => {
    const requestId = await createRequest(t, "exchange/new-moverequest", { as: "approver2@fabrikam.com" });
    expect(await approve(t, requestId)).toMatchObject({ status: "APPROVED", target: canonical });
    for (const task of spellings) {
      expect(await checkTask(t, "approver2@fabrikam.com", task), task).toMatchObject({
        allowed: true,
        reason: "ACTIVE_AUTHORIZATION",
      });
    }
  });
});

describe("names the catalog does not know", () => {
  it("denies them by default as UNKNOWN_TASK, look-alikes included, and logs them", async () => {
    for (const task of [cyrillicLookAlike, "Exchange\\New-MoveRequests", "Exchange\\Get-Nothing"]) {
      expect(await checkTask(t, "requester@fabrikam.com", task), task).toMatchObject({
        allowed: false,
        reason: "UNKNOWN_TASK",
        execution: { task, resolvedTask: null },
      });
    }
  });

  it("allows them when the organization says so, while governed names stay governed", async () => {
    const updated = await t.as("admin@fabrikam.com", UpdateControl, { input: { unknownTasks: "ALLOW" } });
    expect(updated.updateElevatedAccessControl).toMatchObject({ unknownTasks: "ALLOW" });
    expect(await checkTask(t, "requester@fabrikam.com", cyrillicLookAlike)).toMatchObject({
      allowed: true,
      reason: "UNKNOWN_TASK",
    });
    for (const task of spellings) {
      expect(await checkTask(t, "requester@fabrikam.com", task), task).toMatchObject({ allowed: false });
    }
    const audit = await t.db.auditEvent.findFirstOrThrow({
      where: { action: "Set-ElevatedAccessControl" },
      orderBy: { sequence: "desc" },
    });
    expect(audit.details).toEqual({ unknownTasks: { from: "DENY", to: "ALLOW" } });
    await t.as("admin@fabrikam.com", UpdateControl, { input: { unknownTasks: "DENY" } });
  });
});

describe("a name without its module", () => {
  it("is refused for requests while two modules share it, and denied unless every meaning is allowed", async () => {
    const added = await t.as("admin@fabrikam.com", AddCatalogEntry, {
      input: { type: "TASK", name: "MigrationTools\\New-MoveRequest" },
    });
    expect(added.addCatalogEntry.__typename).toBe("CatalogEntry");
    expect(await fileRequest(t, "New-MoveRequest")).toMatchObject({
      code: "VALIDATION",
      field: "target",
      message: expect.stringContaining("ambiguous"),
    });
    // approver2 holds a grant for Exchange's cmdlet; MigrationTools' is not governed: both meanings allowed.
    expect(await checkTask(t, "approver2@fabrikam.com", "New-MoveRequest")).toMatchObject({
      allowed: true,
      execution: { resolvedTask: "Exchange\\New-MoveRequest, MigrationTools\\New-MoveRequest" },
    });
    expect(await checkTask(t, "requester@fabrikam.com", "New-MoveRequest")).toMatchObject({
      allowed: false,
      reason: "NO_AUTHORIZATION",
    });
  });

  it("refuses a catalog entry or policy that is another spelling of an existing one", async () => {
    expect(
      (await t.as("admin@fabrikam.com", AddCatalogEntry, { input: { type: "TASK", name: "EXCHANGE/new-moverequest" } }))
        .addCatalogEntry,
    ).toMatchObject({ code: "CONFLICT" });
    const { createApprovalPolicy } = await t.as("admin@fabrikam.com", CreatePolicy, {
      input: { target: "exchange\\NEW-MOVEREQUEST", approvalType: "AUTO" },
    });
    expect(createApprovalPolicy).toMatchObject({ code: "CONFLICT" });
  });
});
