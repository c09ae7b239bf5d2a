import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/client.ts";
import { type CliApi, elevate, startCliApi } from "./cli.ts";

// Issue 16 at the command line: approving for fewer hours and ending one's own access
// early, against the API process.

const hour = 3_600_000;

let cliApi: CliApi;
let _db: Db;
const shells: Record<string, Record<string, string>> = {};

const json = <T>(stdout: string) => JSON.parse(stdout) as T;
const as = (email: string) => shells[email]!;

beforeAll(async () => {
  cliApi = await startCliApi("cli-lifecycle");
  _db = cliApi.db;
  for (const email of ["admin@fabrikam.com", "requester@fabrikam.com", "approver1@fabrikam.com"]) {
    shells[email] = await cliApi.shell(email, await cliApi.tokenFor(email));
  }
  const enable = await elevate(
    as("admin@fabrikam.com"),
    "Enable-ElevatedAccessControl",
    "-AdminGroup",
    "pamapprovers@fabrikam.com",
  );
  expect(enable.code, enable.stderr).toBe(0);
  const policy = await elevate(
    as("admin@fabrikam.com"),
    "New-ElevatedAccessApprovalPolicy",
    "-Task",
    "Exchange\\New-MoveRequest",
    "-ApprovalType",
    "Manual",
  );
  expect(policy.code, policy.stderr).toBe(0);
});

afterAll(async () => {
  await cliApi?.close();
});

interface RequestRow {
  Identity: string;
  StartTime: string | null;
  AuthorizationStatus: string | null;
  DurationHours: number;
  RequestStatus: string;
  Decisions: { Approver: string; DurationHours: number | null }[];
  AuthorizationStartTime: string;
  AuthorizationEndTime: string;
}

describe("Approve-ElevatedAccessRequest -DurationHours, then Stop-ElevatedAccessAuthorization", () => {
  it("grants fewer hours than asked, then the requester ends the grant early with a reason", async () => {
    const filed = await elevate(
      as("requester@fabrikam.com"),
      "New-ElevatedAccessRequest",
      "-Task",
      "Exchange\\New-MoveRequest",
      "-Reason",
      "Move a mailbox",
      "-DurationHours",
      "4",
      "-Json",
    );
    expect(filed.code, filed.stderr).toBe(0);
    const requestId = json<RequestRow>(filed.stdout).Identity;

    const tooLong = await elevate(
      as("approver1@fabrikam.com"),
      "Approve-ElevatedAccessRequest",
      "-RequestId",
      requestId,
      "-DurationHours",
      "6",
    );
    expect(tooLong.code).toBe(10);
    expect(tooLong.stderr).toMatch(/VALIDATION: durationHours: must be at most the 4 hours asked for/);

    const approved = await elevate(
      as("approver1@fabrikam.com"),
      "Approve-ElevatedAccessRequest",
      "-RequestId",
      requestId,
      "-DurationHours",
      "1",
      "-Json",
    );
    expect(approved.code, approved.stderr).toBe(0);
    const row = json<RequestRow>(approved.stdout);
    expect(row).toMatchObject({ RequestStatus: "Approved", DurationHours: 4 });
    expect(row.Decisions).toMatchObject([{ Approver: "approver1@fabrikam.com", DurationHours: 1 }]);
    const window = new Date(row.AuthorizationEndTime).getTime() - new Date(row.AuthorizationStartTime).getTime();
    expect(window).toBe(hour);

    // Not the grantee: approvers revoke instead.
    const byApprover = await elevate(
      as("approver1@fabrikam.com"),
      "Stop-ElevatedAccessAuthorization",
      "-RequestId",
      requestId,
    );
    expect(byApprover.code).toBe(12);

    const stopped = await elevate(
      as("requester@fabrikam.com"),
      "Stop-ElevatedAccessAuthorization",
      "-RequestId",
      requestId,
      "-Reason",
      "moved already",
      "-Json",
    );
    expect(stopped.code, stopped.stderr).toBe(0);
    const grant = json<{ Status: string; EndedTime: string; EndTime: string; EndComment: string }>(stopped.stdout);
    expect(grant).toMatchObject({ Status: "Ended", EndComment: "moved already" });
    expect(new Date(grant.EndedTime).getTime()).toBeLessThan(new Date(grant.EndTime).getTime());

    const test = await elevate(
      as("requester@fabrikam.com"),
      "Test-ElevatedAccess",
      "-Task",
      "Exchange\\New-MoveRequest",
    );
    expect(test.code).toBe(5);
    const again = await elevate(
      as("requester@fabrikam.com"),
      "Stop-ElevatedAccessAuthorization",
      "-RequestId",
      requestId,
    );
    expect(again.code).toBe(13);
    expect(again.stderr).toMatch(/CONFLICT: authorization is already ENDED/);

    const log = await elevate(
      as("admin@fabrikam.com"),
      "Get-ElevatedAccessAuditLog",
      "-ResultSize",
      "Unlimited",
      "-Json",
    );
    expect(json<{ CmdletName: string; CmdletParameters: unknown }[]>(log.stdout)).toContainEqual(
      expect.objectContaining({
        CmdletName: "Stop-ElevatedAccessAuthorization",
        CmdletParameters: expect.objectContaining({ reason: "moved already" }),
      }),
    );
  });

  it("names RequestId when the request granted nothing", async () => {
    const filed = await elevate(
      as("approver1@fabrikam.com"),
      "New-ElevatedAccessRequest",
      "-Task",
      "Exchange\\New-MoveRequest",
      "-Reason",
      "pending one",
      "-Json",
    );
    expect(filed.code, filed.stderr).toBe(0);
    const stop = await elevate(
      as("approver1@fabrikam.com"),
      "Stop-ElevatedAccessAuthorization",
      "-RequestId",
      json<RequestRow>(filed.stdout).Identity,
    );
    expect(stop.code).toBe(11);
    expect(stop.stderr).toMatch(/NOT_FOUND: no access granted by request/);
  });

  it("New-ElevatedAccessApprovalPolicy -TicketRequired -TicketPattern; New-ElevatedAccessRequest -Ticket", async () => {
    const policy = await elevate(
      as("admin@fabrikam.com"),
      "New-ElevatedAccessApprovalPolicy",
      "-Task",
      "Exchange\\Set-Mailbox",
      "-ApprovalType",
      "Manual",
      "-TicketRequired",
      "-TicketPattern",
      "INC[0-9]{7}",
      "-Json",
    );
    expect(policy.code, policy.stderr).toBe(0);
    expect(json(policy.stdout)).toMatchObject({ TicketRequired: true, TicketPattern: "INC[0-9]{7}" });
    const file = (...extra: string[]) =>
      elevate(
        as("requester@fabrikam.com"),
        "New-ElevatedAccessRequest",
        "-Task",
        "Exchange\\Set-Mailbox",
        "-Reason",
        "Fix a mailbox",
        ...extra,
        "-Json",
      );
    const without = await file();
    expect(without.code).toBe(10);
    expect(JSON.parse(without.stderr)).toMatchObject({ error: { code: "VALIDATION", field: "ticket" } });
    const filed = await file("-Ticket", "INC0000042");
    expect(filed.code, filed.stderr).toBe(0);
    expect(json(filed.stdout)).toMatchObject({ Ticket: "INC0000042", RequestStatus: "Pending" });
  });

  it("Request-ElevatedAccessExtension: the grantee asks for an hour more, an approver approves, the end moves", async () => {
    const filed = await elevate(
      as("requester@fabrikam.com"),
      "New-ElevatedAccessRequest",
      "-Task",
      "Exchange\\New-MoveRequest",
      "-Reason",
      "Another move",
      "-DurationHours",
      "2",
      "-Json",
    );
    expect(filed.code, filed.stderr).toBe(0);
    const requestId = json<RequestRow>(filed.stdout).Identity;
    const approved = await elevate(
      as("approver1@fabrikam.com"),
      "Approve-ElevatedAccessRequest",
      "-RequestId",
      requestId,
      "-Json",
    );
    expect(approved.code, approved.stderr).toBe(0);
    const before = new Date(json<RequestRow>(approved.stdout).AuthorizationEndTime).getTime();

    const asked = await elevate(
      as("requester@fabrikam.com"),
      "Request-ElevatedAccessExtension",
      "-RequestId",
      requestId,
      "-Hours",
      "1",
      "-Reason",
      "The move takes longer",
      "-Json",
    );
    expect(asked.code, asked.stderr).toBe(0);
    const extension = json<RequestRow>(asked.stdout);
    expect(extension).toMatchObject({ RequestStatus: "Pending", DurationHours: 1 });
    expect(extension.Identity).not.toBe(requestId);

    const decided = await elevate(
      as("approver1@fabrikam.com"),
      "Approve-ElevatedAccessRequest",
      "-RequestId",
      extension.Identity,
    );
    expect(decided.code, decided.stderr).toBe(0);
    const grants = await elevate(
      as("requester@fabrikam.com"),
      "Get-ElevatedAccessAuthorization",
      "-Status",
      "Active",
      "-Json",
    );
    const grant = json<{ RequestId: string; EndTime: string }[]>(grants.stdout).find(
      (row) => row.RequestId === requestId,
    );
    expect(new Date(grant!.EndTime).getTime() - before).toBe(hour);
  });

  it("Set-ElevatedAccessControl -ReminderHours sets the organization's reminder points", async () => {
    const set = await elevate(
      as("admin@fabrikam.com"),
      "Set-ElevatedAccessControl",
      "-ReminderHours",
      "@(12,2)",
      "-Json",
    );
    expect(set.code, set.stderr).toBe(0);
    expect(json(set.stdout)).toMatchObject({ ReminderHours: [2, 12] });
    const bad = await elevate(as("admin@fabrikam.com"), "Set-ElevatedAccessControl", "-ReminderHours", "@(0)");
    expect(bad.code).toBe(10);
  });
  it("New-ElevatedAccessApprovalPolicy -EscalationGroup -EscalateAfterHours; both or neither", async () => {
    const policy = (...extra: string[]) =>
      elevate(
        as("admin@fabrikam.com"),
        "New-ElevatedAccessApprovalPolicy",
        "-Task",
        "Exchange\\Search-Mailbox",
        "-ApprovalType",
        "Manual",
        ...extra,
        "-Json",
      );
    const alone = await policy("-EscalateAfterHours", "4");
    expect(alone.code).toBe(10);
    expect(JSON.parse(alone.stderr)).toMatchObject({ error: { code: "VALIDATION", field: "escalationGroup" } });
    const created = await policy("-EscalationGroup", "pamapprovers@fabrikam.com", "-EscalateAfterHours", "4");
    expect(created.code, created.stderr).toBe(0);
    expect(json(created.stdout)).toMatchObject({
      EscalationGroup: "pamapprovers@fabrikam.com",
      EscalateAfterHours: 4,
    });
  });

  it("New-ElevatedAccessRequest -StartTime: approved before its start, the access is Scheduled from then", async () => {
    const policy = await elevate(
      as("admin@fabrikam.com"),
      "New-ElevatedAccessApprovalPolicy",
      "-Task",
      "Exchange\\Add-MailboxPermission",
      "-ApprovalType",
      "Manual",
    );
    expect(policy.code, policy.stderr).toBe(0);
    const file = (startTime: Date) =>
      elevate(
        as("requester@fabrikam.com"),
        "New-ElevatedAccessRequest",
        "-Task",
        "Exchange\\Add-MailboxPermission",
        "-Reason",
        "Weekend migration",
        "-StartTime",
        startTime.toISOString(),
        "-Json",
      );
    const tooFar = await file(new Date(Date.now() + 20 * 24 * hour));
    expect(tooFar.code).toBe(10);
    expect(JSON.parse(tooFar.stderr)).toMatchObject({ error: { code: "VALIDATION", field: "startsAt" } });

    const startsAt = new Date(Math.ceil((Date.now() + 2 * 24 * hour) / 1000) * 1000);
    const filed = await file(startsAt);
    expect(filed.code, filed.stderr).toBe(0);
    const request = json<RequestRow>(filed.stdout);
    expect(request).toMatchObject({ RequestStatus: "Pending", AuthorizationStatus: null });
    expect(new Date(request.StartTime!).getTime()).toBe(startsAt.getTime());
    const approved = await elevate(
      as("approver1@fabrikam.com"),
      "Approve-ElevatedAccessRequest",
      "-RequestId",
      request.Identity,
      "-Json",
    );
    expect(approved.code, approved.stderr).toBe(0);
    const grant = json<RequestRow>(approved.stdout);
    expect(grant.AuthorizationStatus).toBe("Scheduled");
    expect(new Date(grant.AuthorizationStartTime).getTime()).toBe(startsAt.getTime());
    expect(
      await cliApi.db.accessAuthorization.count({ where: { requestId: request.Identity, status: "SCHEDULED" } }),
    ).toBe(1);
  });
});
