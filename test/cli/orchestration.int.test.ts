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
