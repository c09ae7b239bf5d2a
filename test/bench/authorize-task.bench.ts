import { afterAll, beforeAll, bench, describe } from "vitest";
import { createDb, type Db } from "../../src/db/client.ts";
import { authorizeTask } from "../../src/domain/authorizations/authorize-task.ts";
import { enableElevatedAccessControl } from "../../src/domain/control/control.service.ts";
import { createApprovalPolicy } from "../../src/domain/policies/policies.service.ts";
import { approveAccessRequest, createAccessRequest } from "../../src/domain/requests/requests.service.ts";
import { actorFor, contextFor } from "../helpers/jobs.ts";
import { workerDatabaseUrl } from "../setup/test-env.ts";

// The enforcement hot path: one authorizeTask call per privileged execution.
let db: Db;
let requesterCtx: ReturnType<typeof contextFor>;
let approver1Ctx: ReturnType<typeof contextFor>;

beforeAll(async () => {
  db = createDb(workerDatabaseUrl());
  const admin = contextFor(db, await actorFor(db, "admin@fabrikam.com"));
  requesterCtx = contextFor(db, await actorFor(db, "requester@fabrikam.com"));
  approver1Ctx = contextFor(db, await actorFor(db, "approver1@fabrikam.com"));
  await enableElevatedAccessControl(admin, { adminGroup: "pamapprovers@fabrikam.com" });
  await createApprovalPolicy(admin, { type: "ROLE", target: "Move Mailboxes", approvalType: "MANUAL" });
  const request = await createAccessRequest(requesterCtx, { type: "ROLE", target: "Move Mailboxes", reason: "bench" });
  await approveAccessRequest(approver1Ctx, { requestId: request.id });
});
afterAll(() => db.$disconnect());

describe("authorizeTask", () => {
  bench("allowed through a role authorization (logged)", async () => {
    await authorizeTask(requesterCtx, { task: "Exchange\\New-MoveRequest" });
  });
  bench("denied: governed, no authorization (logged)", async () => {
    await authorizeTask(approver1Ctx, { task: "Exchange\\New-MoveRequest" });
  });
  bench("not governed (logged)", async () => {
    await authorizeTask(requesterCtx, { task: "Exchange\\Set-Mailbox" });
  });
});
