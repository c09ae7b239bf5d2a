import { randomUUID } from "node:crypto";
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { createDb, type Db } from "../../src/db/client.ts";
import { jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, spawnApi } from "../helpers/processes.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";
import { bash, type Cli, elevate, installCli, property } from "./cli.ts";

// Issue 14: the seed's Exchange Management PowerShell lines, typed into a shell with
// only `elevate` in front, as the seed's admin, requester and approver, against a
// running API. GUIDs are the ones the earlier lines printed.

const queuePrefix = uniquePrefix("cli-seed");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);

let api: ApiProcess;
let db: Db;
let cli: Cli;
const shells: Record<"admin" | "requester" | "approver", Record<string, string>> = {
  admin: {},
  requester: {},
  approver: {},
};
let policyGuid: string;
let requestGuid: string;

beforeAll(async () => {
  await loadOrCreateDevIssuerKey(keyFile);
  db = createDb(workerDatabaseUrl());
  api = await spawnApi({ redisUrl, queuePrefix, devIssuerKeyFile: keyFile });
  cli = await installCli(api.url);
  const users = {
    admin: "admin@fabrikam.com",
    requester: "requester@fabrikam.com",
    approver: "approver1@fabrikam.com",
  };
  await Promise.all(
    Object.entries(users).map(async ([role, email]) => {
      const env = cli.env(await mkdtemp(path.join(tmpdir(), `elevate-${role}-`)));
      const login = await elevate(env, "login", "-As", email);
      expect(login, login.stderr).toMatchObject({ code: 0 });
      expect(property(login.stdout, "UserPrincipalName")).toBe(email);
      shells[role as keyof typeof shells] = env;
    }),
  );
});

afterAll(async () => {
  await api?.stop();
  // The jobs the API queued (request expiry, mail) are this file's alone.
  await (await jobClient(redisUrl, queuePrefix)).close();
  await db?.$disconnect();
});

describe("the seed's procedure with elevate in front", () => {
  it("keeps each user's token in their config directory, readable by them alone", async () => {
    const file = await stat(path.join(shells.admin.ELEVATE_CONFIG_DIR!, "credentials.json"));
    expect(file.mode & 0o777).toBe(0o600);
    const dir = await stat(shells.admin.ELEVATE_CONFIG_DIR!);
    expect(dir.mode & 0o077).toBe(0);
  });

  it("admin: creates the approver group the policy line names", async () => {
    const result = await bash(
      shells.admin,
      "elevate New-ElevatedAccessApproverGroup -Name 'Mailbox Managers' -PrimarySmtpAddress 'mbmanagers@fabrikam.com' -Members @('approver1@fabrikam.com','approver2@fabrikam.com')",
    );
    expect(result.code, result.stderr).toBe(0);
    expect(property(result.stdout, "PrimarySmtpAddress")).toBe("mbmanagers@fabrikam.com");
    expect(property(result.stdout, "Members")).toBe("{approver1@fabrikam.com, approver2@fabrikam.com}");
  });

  const enableLine =
    "elevate Enable-ElevatedAccessControl -AdminGroup 'pamapprovers@fabrikam.com' -SystemAccounts @('sys1@fabrikam.com','sys2@fabrikam.com')";

  it("admin: Enable-ElevatedAccessControl names the missing system account with NOT_FOUND", async () => {
    const result = await bash(shells.admin, enableLine);
    expect(result.code).toBe(11);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^Enable-ElevatedAccessControl: NOT_FOUND: .*sys2@fabrikam\.com/);
  });

  it("admin: Enable-ElevatedAccessControl, once the identity provider has sys2", async () => {
    // Users come from the identity provider (SCIM or first sign-in), not from this command.
    const sys1 = await db.user.findFirstOrThrow({ where: { email: "sys1@fabrikam.com" } });
    await db.user.create({
      data: {
        organizationId: sys1.organizationId,
        email: "sys2@fabrikam.com",
        displayName: "System account 2",
        kind: sys1.kind,
        subject: randomUUID(),
        roles: [],
      },
    });
    const result = await bash(shells.admin, enableLine);
    expect(result.code, result.stderr).toBe(0);
    expect(property(result.stdout, "Enabled")).toBe("True");
    expect(property(result.stdout, "AdminGroup")).toBe("pamapprovers@fabrikam.com");
    expect(property(result.stdout, "SystemAccounts")).toBe("{sys1@fabrikam.com, sys2@fabrikam.com}");
  });

  it("admin: New-ElevatedAccessApprovalPolicy", async () => {
    const result = await bash(
      shells.admin,
      "elevate New-ElevatedAccessApprovalPolicy -Task 'Exchange\\New-MoveRequest' -ApprovalType Manual -ApproverGroup 'mbmanagers@fabrikam.com'",
    );
    expect(result.code, result.stderr).toBe(0);
    policyGuid = property(result.stdout, "Identity");
    expect(policyGuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(property(result.stdout, "Target")).toBe("Exchange\\New-MoveRequest");
    expect(property(result.stdout, "ApprovalType")).toBe("Manual");
    expect(property(result.stdout, "ApproverGroup")).toBe("mbmanagers@fabrikam.com");
  });

  const requestLine =
    "elevate New-ElevatedAccessRequest -Task 'Exchange\\New-MoveRequest' -Reason 'Attempting to fix the user mailbox error' -DurationHours 4";

  it("requester: New-ElevatedAccessRequest", async () => {
    const result = await bash(shells.requester, requestLine);
    expect(result.code, result.stderr).toBe(0);
    requestGuid = property(result.stdout, "Identity");
    expect(property(result.stdout, "RequestStatus")).toBe("Pending");
    expect(property(result.stdout, "RequestorUPN")).toBe("requester@fabrikam.com");
    expect(property(result.stdout, "Reason")).toBe("Attempting to fix the user mailbox error");
    expect(property(result.stdout, "DurationHours")).toBe("4");
  });

  it("requester: Get-ElevatedAccessRequest ... | select RequestStatus, the line passed whole", async () => {
    // bash keeps `| select` for itself (select is one of its keywords), so the line goes in quotes.
    const result = await bash(
      shells.requester,
      `elevate "Get-ElevatedAccessRequest -Identity ${requestGuid} | select RequestStatus"`,
    );
    expect(result).toEqual({ code: 0, stdout: "\nRequestStatus\n-------------\nPending\n\n", stderr: "" });
  });

  it("requester: the same with -Select, and as JSON for scripts", async () => {
    const selected = await bash(
      shells.requester,
      `elevate Get-ElevatedAccessRequest -Identity ${requestGuid} -Select RequestStatus`,
    );
    expect(selected.stdout).toBe("\nRequestStatus\n-------------\nPending\n\n");
    const json = await elevate(shells.requester, "Get-ElevatedAccessRequest", "-Identity", requestGuid, "-Json");
    expect(json.code).toBe(0);
    const [request] = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(request).toMatchObject({
      Identity: requestGuid,
      RequestorUPN: "requester@fabrikam.com",
      Service: "Exchange",
      RequestType: "Task",
      RequestedAccess: "Exchange\\New-MoveRequest",
      RequestStatus: "Pending",
      ApprovalType: "Manual",
      ApproverGroup: "mbmanagers@fabrikam.com",
      DurationHours: 4,
      Decisions: [],
    });
  });

  it("approver: sees it awaiting their decision, then Approve-ElevatedAccessRequest", async () => {
    const waiting = await elevate(
      shells.approver,
      "Get-ElevatedAccessRequest",
      "-AwaitingMyDecision",
      "-ExpandProperty",
      "Identity",
    );
    expect(waiting.stdout.trim().split("\n")).toContain(requestGuid);
    const result = await bash(
      shells.approver,
      `elevate Approve-ElevatedAccessRequest -RequestId ${requestGuid} -Comment 'ok'`,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(property(result.stdout, "RequestStatus")).toBe("Approved");
    expect(property(result.stdout, "Decisions")).toMatch(
      /^\{@\{Approver=approver1@fabrikam\.com; Decision=Approved; Comment=ok; Channel=Api; DecisionTime=/,
    );
    expect(property(result.stdout, "AuthorizationStatus")).toBe("Active");
  });

  it("requester: the status reads Approved and the task is allowed now", async () => {
    const status = await bash(
      shells.requester,
      `elevate "Get-ElevatedAccessRequest -Identity ${requestGuid} | select RequestStatus"`,
    );
    expect(status.stdout).toBe("\nRequestStatus\n-------------\nApproved\n\n");
    const test = await bash(shells.requester, "elevate Test-ElevatedAccess -Task 'Exchange\\New-MoveRequest'");
    expect(test.code, test.stderr).toBe(0);
    expect(property(test.stdout, "Allowed")).toBe("True");
    expect(property(test.stdout, "Reason")).toBe("ActiveAuthorization");
  });

  it("approver: a second decision on it is ALREADY_DECIDED", async () => {
    const result = await bash(
      shells.approver,
      `elevate Deny-ElevatedAccessRequest -RequestId ${requestGuid} -Comment 'no'`,
    );
    expect(result.code).toBe(19);
    expect(result.stderr).toMatch(/^Deny-ElevatedAccessRequest: ALREADY_DECIDED: /);
  });

  it("the denial path: a new request, Deny-ElevatedAccessRequest, and the task stays denied to others", async () => {
    const created = await bash(shells.requester, requestLine);
    const denied = property(created.stdout, "Identity");
    const result = await bash(shells.approver, `elevate Deny-ElevatedAccessRequest -RequestId ${denied} -Comment 'no'`);
    expect(result.code, result.stderr).toBe(0);
    expect(property(result.stdout, "RequestStatus")).toBe("Denied");
    expect(property(result.stdout, "Decisions")).toMatch(/Decision=Denied; Comment=no;/);
    const status = await bash(
      shells.requester,
      `elevate "Get-ElevatedAccessRequest -Identity ${denied} | select RequestStatus"`,
    );
    expect(status.stdout).toBe("\nRequestStatus\n-------------\nDenied\n\n");
    // The approver has no authorization of their own for the task.
    const test = await bash(shells.approver, "elevate Test-ElevatedAccess -Task 'Exchange\\New-MoveRequest'");
    expect(test.code).toBe(5);
    expect(property(test.stdout, "Allowed")).toBe("False");
    expect(property(test.stdout, "Reason")).toBe("NoAuthorization");
  });

  it("admin: Remove-ElevatedAccessApprovalPolicy cancels the policy's pending requests", async () => {
    const pending = property((await bash(shells.requester, requestLine)).stdout, "Identity");
    const result = await bash(shells.admin, `elevate Remove-ElevatedAccessApprovalPolicy -Identity ${policyGuid}`);
    expect(result.code, result.stderr).toBe(0);
    expect(property(result.stdout, "Identity")).toBe(policyGuid);
    const status = await bash(
      shells.requester,
      `elevate "Get-ElevatedAccessRequest -Identity ${pending} | select RequestStatus"`,
    );
    expect(status.stdout).toBe("\nRequestStatus\n-------------\nCanceled\n\n");
    const again = await bash(shells.admin, `elevate Remove-ElevatedAccessApprovalPolicy -Identity ${policyGuid}`);
    expect(again.code).toBe(11);
    expect(again.stderr).toMatch(/NOT_FOUND/);
  });

  it("admin: Disable-ElevatedAccessControl, after which requests are refused with CONTROL_DISABLED", async () => {
    const result = await bash(shells.admin, "elevate Disable-ElevatedAccessControl");
    expect(result.code, result.stderr).toBe(0);
    expect(property(result.stdout, "Enabled")).toBe("False");
    const request = await bash(shells.requester, requestLine);
    expect(request.code).toBe(15);
    expect(request.stderr).toMatch(/^New-ElevatedAccessRequest: CONTROL_DISABLED: /);
  });
});
