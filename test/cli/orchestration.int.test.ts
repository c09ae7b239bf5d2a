import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/client.ts";
import { bash, type CliApi, elevate, startCliApi } from "./cli.ts";

// Issue 17 at the command line: stages, step-up and conditions when creating a policy,
// the organization's step-up and time zone settings, and a decision without MFA
// refused with STEP_UP_REQUIRED's exit code (22), all typed into bash.

let cliApi: CliApi;
let db: Db;
let admin: Record<string, string>;
let requester: Record<string, string>;
let approver: Record<string, string>;

const json = <T>(stdout: string) => JSON.parse(stdout) as T;

beforeAll(async () => {
  cliApi = await startCliApi("cli-orchestration");
  db = cliApi.db;
  admin = await cliApi.shell("admin", await cliApi.tokenFor("admin@fabrikam.com"));
  requester = await cliApi.shell("requester", await cliApi.tokenFor("requester@fabrikam.com"));
  approver = await cliApi.shell("approver", await cliApi.tokenFor("approver1@fabrikam.com"));
  const enable = await elevate(admin, "Enable-ElevatedAccessControl", "-AdminGroup", "pamapprovers@fabrikam.com");
  expect(enable.code, enable.stderr).toBe(0);
});

afterAll(async () => {
  await cliApi?.close();
});

describe("approval orchestration at the command line", () => {
  it("creates a two-stage policy that requires MFA; a decision without it exits 22", async () => {
    const created = await bash(
      admin,
      "elevate New-ElevatedAccessApprovalPolicy -Task 'Exchange\\New-MoveRequest' -ApprovalType Manual -Stages @('pamapprovers@fabrikam.com','pamapprovers@fabrikam.com:2') -RequireMfa -Json",
    );
    expect(created.code, created.stderr).toBe(0);
    expect(json(created.stdout)).toMatchObject({
      RequireMfa: true,
      Stages: ["pamapprovers@fabrikam.com:1", "pamapprovers@fabrikam.com:2"],
      ApproverGroup: "pamapprovers@fabrikam.com",
      RequiredApprovals: 1,
    });
    const request = await bash(
      requester,
      "elevate New-ElevatedAccessRequest -Task 'Exchange\\New-MoveRequest' -Reason 'Stage one' -ExpandProperty Identity",
    );
    expect(request.code, request.stderr).toBe(0);
    const refused = await elevate(approver, "Approve-ElevatedAccessRequest", "-Identity", request.stdout.trim());
    expect(refused.code).toBe(22);
    expect(refused.stderr).toContain("STEP_UP_REQUIRED");
    // The dev issuer says MFA when asked (`npm run token -- --mfa`, POST /dev/token with mfa): the decision counts.
    const minted = await fetch(`${cliApi.api.url}/dev/token`, {
      method: "POST",
      body: JSON.stringify({ as: "approver1@fabrikam.com", mfa: true }),
    });
    const { access_token } = (await minted.json()) as { access_token: string };
    const withMfa = await cliApi.shell("approver-mfa", access_token);
    const approved = await elevate(
      withMfa,
      "Approve-ElevatedAccessRequest",
      "-Identity",
      request.stdout.trim(),
      "-Json",
    );
    expect(approved.code, approved.stderr).toBe(0);
    expect(json(approved.stdout)).toMatchObject({ RequestStatus: "Pending" });
    expect(await db.accessRequest.findUniqueOrThrow({ where: { id: request.stdout.trim() } })).toMatchObject({
      stage: 2,
    });
  });

  it("creates a policy with auto-approval conditions and sets the organization's time zone and step-up", async () => {
    const created = await bash(
      admin,
      "elevate New-ElevatedAccessApprovalPolicy -Task 'Exchange\\Set-Mailbox' -ApprovalType Manual -AutoApproveWhen \"@{RequesterInGroup='pamapprovers@fabrikam.com'; MaxDurationHours=2; Days='Mon,Fri'; Start='09:00'; End='17:00'}\" -Json",
    );
    expect(created.code, created.stderr).toBe(0);
    expect(json<{ AutoApproveWhen: string }>(created.stdout).AutoApproveWhen).toBe(
      "RequesterInGroup=pamapprovers@fabrikam.com; MaxDurationHours=2; Window=Mon,Fri 09:00-17:00",
    );
    const badDay = await bash(
      admin,
      "elevate New-ElevatedAccessApprovalPolicy -Task 'Exchange\\New-Mailbox' -ApprovalType Manual -AutoApproveWhen @{Days='Someday'}",
    );
    expect(badDay.code).toBe(2);
    const ticketed = await bash(
      admin,
      "elevate New-ElevatedAccessApprovalPolicy -Task 'Exchange\\New-MailboxSearch' -ApprovalType Manual -AutoApproveWhen \"@{TicketGiven='true'}\" -Json",
    );
    expect(ticketed.code, ticketed.stderr).toBe(0);
    expect(json<{ AutoApproveWhen: string }>(ticketed.stdout).AutoApproveWhen).toBe("TicketGiven=True");
    expect(badDay.stderr).toContain("Days");

    const set = await bash(
      admin,
      "elevate Set-ElevatedAccessControl -RequireMfaForDecisions true -MfaAcrValues @('c2') -TimeZone 'Europe/Paris' -Json",
    );
    expect(set.code, set.stderr).toBe(0);
    expect(json(set.stdout)).toMatchObject({
      RequireMfaForDecisions: true,
      MfaAcrValues: ["c2"],
      TimeZone: "Europe/Paris",
    });
    const badZone = await elevate(admin, "Set-ElevatedAccessControl", "-TimeZone", "Mars/Olympus");
    expect(badZone.code).toBe(10);
  });
});

describe("Customer Lockbox at the command line", () => {
  it("sets the Lockbox group and limits, registers a vendor, and lists its requests under -CustomerLockbox", async () => {
    const set = await bash(
      admin,
      "elevate Set-ElevatedAccessControl -LockboxApproverGroup 'pamapprovers@fabrikam.com' -LockboxMaxDurationHours 2 -Json",
    );
    expect(set.code, set.stderr).toBe(0);
    expect(json(set.stdout)).toMatchObject({
      LockboxApproverGroup: "pamapprovers@fabrikam.com",
      LockboxRequestLifetimeHours: 12,
      LockboxMaxDurationHours: 2,
    });
    const tooLong = await elevate(admin, "Set-ElevatedAccessControl", "-LockboxMaxDurationHours", "25");
    expect(tooLong.code).toBe(10);
    expect(tooLong.stderr).toContain("lockboxMaxDurationHours");

    const subject = randomUUID();
    const registered = await bash(
      admin,
      `elevate New-CustomerLockboxVendor -VendorName 'Contoso Support' -ObjectId ${subject} -Json`,
    );
    expect(registered.code, registered.stderr).toBe(0);
    expect(json(registered.stdout)).toMatchObject({ VendorName: "Contoso Support", Enabled: true });
    const vendors = await bash(admin, "elevate Get-CustomerLockboxVendor -Json");
    expect(vendors.code, vendors.stderr).toBe(0);
    expect([json<unknown>(vendors.stdout)].flat()).toEqual([
      expect.objectContaining({ VendorName: "Contoso Support", UserPrincipalName: `${subject}@apps.invalid` }),
    ]);

    const vendor = await cliApi.shell("vendor", await cliApi.tokenFor(`${subject}@apps.invalid`));
    const overLimit = await bash(
      vendor,
      "elevate New-ElevatedAccessRequest -Task 'Exchange\\Search-Mailbox' -Reason 'Case 120-4711' -DurationHours 3",
    );
    expect(overLimit.code).toBe(10);
    expect(overLimit.stderr).toContain("at most 2 hours for a Customer Lockbox request");
    const filed = await bash(
      vendor,
      "elevate New-ElevatedAccessRequest -Task 'Exchange\\Search-Mailbox' -Reason 'Case 120-4711' -DurationHours 2 -Json",
    );
    expect(filed.code, filed.stderr).toBe(0);
    const request = json<{ Identity: string; RequestKind: string }>(filed.stdout);
    expect(request.RequestKind).toBe("CustomerLockbox");

    const listed = await bash(admin, "elevate Get-ElevatedAccessRequest -CustomerLockbox -Json");
    expect(listed.code, listed.stderr).toBe(0);
    expect([json<{ Identity: string; RequestKind: string }>(listed.stdout)].flat()).toEqual([
      expect.objectContaining({ Identity: request.Identity, RequestKind: "CustomerLockbox" }),
    ]);
    // The vendor decides nothing: NOT_AN_APPROVER's exit code.
    const approve = await elevate(vendor, "Approve-ElevatedAccessRequest", "-Identity", request.Identity);
    expect(approve.code).not.toBe(0);
    expect(approve.stderr).toContain("SELF_APPROVAL");
  });
});
