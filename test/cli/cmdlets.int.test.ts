import { randomUUID } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/client.ts";
import { freePort } from "../helpers/processes.ts";
import { seededAuditActions } from "../helpers/seed.ts";
import { type CliApi, elevate, property, startCliApi } from "./cli.ts";

// Issue 14 beyond the seed's lines: bad command lines, the exit code of each error
// class, ELEVATE_TOKEN, token renewal, help, and the cmdlets users need next.

let cliApi: CliApi;
let db: Db;
/** Signed in with `elevate login -As`. */
let admin: Record<string, string>;
/** Automation: ELEVATE_TOKEN, nothing stored. */
let requester: Record<string, string>;
let auditor: Record<string, string>;
/** Nobody signed in. */
let nobody: Record<string, string>;

const json = <T>(stdout: string) => JSON.parse(stdout) as T;

beforeAll(async () => {
  cliApi = await startCliApi("cli-cmdlets");
  db = cliApi.db;
  admin = await cliApi.shell("admin");
  requester = await cliApi.shell("requester", await cliApi.tokenFor("requester@fabrikam.com"));
  auditor = await cliApi.shell("auditor", await cliApi.tokenFor("auditor@fabrikam.com"));
  nobody = await cliApi.shell("nobody");
  const login = await elevate(admin, "login", "--as", "admin@fabrikam.com");
  expect(login.code, login.stderr).toBe(0);
});

afterAll(async () => {
  await cliApi?.close();
});

describe("bad command lines", () => {
  it("answer exit code 2 with a message naming the parameter, before asking the server", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["New-ElevatedAccessRequest", "-Task", "X"],
        /^New-ElevatedAccessRequest: USAGE: required option -Reason not specified/,
      ],
      [
        ["New-ElevatedAccessApprovalPolicy", "-Task", "X", "-ApprovalType", "Sometimes"],
        /USAGE: option -ApprovalType argument 'Sometimes' is invalid\. must be one of Manual, Auto/,
      ],
      [
        ["New-ElevatedAccessRequest", "-Task", "X", "-Reason", "y", "-DurationHours", "four"],
        /option -DurationHours argument 'four' is invalid\. must be a whole number/,
      ],
      [
        ["New-ElevatedAccessRequest", "-Task", "X", "-Role", "Y", "-Reason", "z"],
        /option -Task cannot be used with option -Role/,
      ],
      [["New-ElevatedAccessRequest", "-Reason", "z"], /USAGE: give one of -Task, -Role, -RoleGroup/],
      [
        ["Get-ElevatedAccessRequest", "-Frobnicate", "x"],
        /USAGE: no parameter -Frobnicate; the parameters are -Identity/,
      ],
      [["Get-ElevatedAccessRequest", "-Identity"], /USAGE: option -Identity argument missing/],
      [["Get-ElevatedAccessRequest", "-Select", "Status"], /USAGE: no property Status; the properties are Identity,/],
      [["Get-ElevatedAccessRequest -Status Pending | ft"], /USAGE: after a pipe only `select <Property>`/],
      [["New-ElevatedAccessRequest -Task 'Exchange\\New-MoveRequest -Reason x"], /USAGE: unterminated ' quote/],
      [
        ["Get-ElevatedAccesRequest"],
        /unknown command 'Get-ElevatedAccesRequest'\n\(Did you mean Get-ElevatedAccessRequest\?\)/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => elevate(nobody, ...args)));
    for (const [index, result] of results.entries()) {
      expect(result, cases[index]![0].join(" ")).toMatchObject({ code: 2, stdout: "" });
      expect(result.stderr).toMatch(cases[index]![1]);
    }
  });

  it("show help with exit code 0: elevate help, help <cmdlet> in any case, and -?", async () => {
    const [overview, topic, question] = await Promise.all([
      elevate(nobody),
      elevate(nobody, "help", "new-elevatedaccessrequest"),
      elevate(nobody, "New-ElevatedAccessRequest", "-?"),
    ]);
    expect(overview.code).toBe(0);
    expect(overview.stdout).toMatch(/Enable-ElevatedAccessControl +Turns privileged access on/);
    expect(overview.stdout).toMatch(/Exit codes: 0 ok/);
    for (const help of [topic, question]) {
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(
        "Usage: elevate New-ElevatedAccessRequest (-Task <String> | -Role <String> | -RoleGroup <String>) -Reason <String> [-DurationHours <Int32>]",
      );
      expect(help.stdout).toMatch(/-DurationHours <Int32> +How long the access lasts/);
      expect(help.stdout).toContain("elevate New-ElevatedAccessRequest -Task 'Exchange\\New-MoveRequest' -Reason");
    }
  });
});

describe("exit codes per error class", () => {
  it("3 when not signed in or the token is refused, 4 when the server cannot be reached", async () => {
    const notSignedIn = await elevate(nobody, "whoami");
    expect(notSignedIn).toMatchObject({ code: 3, stdout: "" });
    expect(notSignedIn.stderr).toMatch(
      /^whoami: UNAUTHENTICATED: not signed in to http:\/\/127\.0\.0\.1:\d+: run elevate login/,
    );
    const refused = await elevate({ ...nobody, ELEVATE_TOKEN: "not-a-token" }, "whoami");
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/UNAUTHENTICATED/);
    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await elevate({ ...requester, ELEVATE_URL: closed }, "Get-ElevatedAccessControl");
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toMatch(/UNAVAILABLE: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it("the API's codes: FORBIDDEN 12, NOT_FOUND 11, VALIDATION 10 (as JSON with -Json), NO_POLICY 16", async () => {
    const [forbidden, notFound, invalid, noPolicy] = await Promise.all([
      elevate(requester, "Get-ElevatedAccessApprovalPolicy"),
      elevate(requester, "Get-ElevatedAccessRequest", "-Identity", randomUUID()),
      elevate(admin, "Set-ElevatedAccessControl", "-RequestLifetimeHours", "1000", "-Json"),
      elevate(admin, "Enable-ElevatedAccessControl", "-AdminGroup", "pamapprovers@fabrikam.com").then(() =>
        elevate(requester, "New-ElevatedAccessRequest", "-Task", "Exchange\\Get-MoveRequest", "-Reason", "x"),
      ),
    ]);
    expect(forbidden.code).toBe(12);
    expect(forbidden.stderr).toMatch(/^Get-ElevatedAccessApprovalPolicy: FORBIDDEN: /);
    expect(notFound.code).toBe(11);
    expect(notFound.stderr).toMatch(/^Get-ElevatedAccessRequest: NOT_FOUND: no request /);
    expect(invalid.code).toBe(10);
    expect(json(invalid.stderr)).toEqual({
      error: {
        code: "VALIDATION",
        message: expect.stringMatching(/^requestLifetimeHours: /),
        field: "requestLifetimeHours",
      },
    });
    expect(noPolicy.code).toBe(16);
    expect(noPolicy.stderr).toMatch(/^New-ElevatedAccessRequest: NO_POLICY: /);
  });
});

describe("sign-in", () => {
  it("ELEVATE_TOKEN works without anything stored", async () => {
    const result = await elevate(requester, "whoami", "-Json");
    expect(result.code, result.stderr).toBe(0);
    expect(json(result.stdout)).toMatchObject({ UserPrincipalName: "requester@fabrikam.com", Kind: "Member" });
  });

  it("renews an expired development token through the dev issuer and keeps the file private", async () => {
    const file = path.join(admin.ELEVATE_CONFIG_DIR!, "credentials.json");
    const store = json<{ url: string; sessions: Record<string, { accessToken: string; expiresAt: number }> }>(
      await readFile(file, "utf8"),
    );
    const session = store.sessions[store.url]!;
    session.accessToken = "expired";
    session.expiresAt = 0;
    await writeFile(file, JSON.stringify(store));
    const result = await elevate(admin, "whoami", "-ExpandProperty", "UserPrincipalName");
    expect(result).toMatchObject({ code: 0, stdout: "admin@fabrikam.com\n" });
    const renewed = json<typeof store>(await readFile(file, "utf8")).sessions[store.url]!;
    expect(renewed.accessToken).not.toBe("expired");
    expect(renewed.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("refuses -As when the server names a user it does not have", async () => {
    const result = await elevate(await cliApi.shell("ghost"), "login", "-As", "ghost@fabrikam.com");
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/development sign-in refused: as: no user ghost@fabrikam\.com/);
  });
});

describe("the cmdlets users need next", () => {
  let autoRequest: string;

  it("Set- and Get-ElevatedAccessControl; system accounts only for those who may see them", async () => {
    const set = await elevate(
      admin,
      "Set-ElevatedAccessControl",
      "-SystemAccounts",
      "sys1@fabrikam.com",
      "-DefaultDurationHours",
      "2",
      "-UnknownTasks",
      "allow",
    );
    expect(set.code, set.stderr).toBe(0);
    expect(property(set.stdout, "SystemAccounts")).toBe("{sys1@fabrikam.com}");
    expect(property(set.stdout, "DefaultDurationHours")).toBe("2");
    expect(property(set.stdout, "UnknownTasks")).toBe("Allow");
    const [asAdmin, asRequester] = await Promise.all([
      elevate(admin, "Get-ElevatedAccessControl", "-Json"),
      elevate(requester, "Get-ElevatedAccessControl", "-Json"),
    ]);
    expect(json(asAdmin.stdout)).toMatchObject({ Enabled: true, SystemAccounts: ["sys1@fabrikam.com"] });
    expect(json(asRequester.stdout)).toMatchObject({ Enabled: true, SystemAccounts: null, DefaultDurationHours: 2 });
  });

  it("an Auto policy on a role, in any case; requests under it are approved at once", async () => {
    const policy = await elevate(
      admin,
      "new-elevatedaccessapprovalpolicy",
      "-role",
      "Move Mailboxes",
      "-APPROVALTYPE",
      "AUTO",
    );
    expect(policy.code, policy.stderr).toBe(0);
    expect(property(policy.stdout, "ApprovalType")).toBe("Auto");
    const listed = await elevate(admin, "Get-ElevatedAccessApprovalPolicy", "-Json");
    expect(json<{ Target: string; Type: string }[]>(listed.stdout)).toContainEqual(
      expect.objectContaining({ Target: "Move Mailboxes", Type: "Role" }),
    );
    const request = await elevate(
      requester,
      "New-ElevatedAccessRequest",
      "-Role",
      "Move Mailboxes",
      "-Reason",
      "Migration",
      "-Json",
    );
    expect(request.code, request.stderr).toBe(0);
    const created = json<{ Identity: string; RequestStatus: string; DurationHours: number }>(request.stdout);
    expect(created).toMatchObject({ RequestStatus: "Approved", DurationHours: 2 });
    autoRequest = created.Identity;
    const filtered = await elevate(
      requester,
      "Get-ElevatedAccessRequest",
      "-RequestStatus",
      "approved,PENDING",
      "-Requestor",
      "requester@fabrikam.com",
      "-ExpandProperty",
      "Identity",
    );
    expect(filtered.stdout.split("\n")).toContain(autoRequest);
  });

  it("Get- and Revoke-ElevatedAccessAuthorization; Test-ElevatedAccess then says no with exit code 5", async () => {
    const active = await elevate(requester, "Get-ElevatedAccessAuthorization", "-Status", "Active", "-Json");
    expect(json(active.stdout)).toContainEqual(
      expect.objectContaining({ RequestId: autoRequest, UserUPN: "requester@fabrikam.com", Status: "Active" }),
    );
    const allowed = await elevate(requester, "Test-ElevatedAccess", "-Task", "Exchange\\New-MoveRequest", "-Json");
    expect(allowed.code).toBe(0);
    expect(json(allowed.stdout)).toMatchObject({ Allowed: true, Reason: "ActiveAuthorization" });
    const revoked = await elevate(
      admin,
      "Revoke-ElevatedAccessAuthorization",
      "-RequestId",
      autoRequest,
      "-Comment",
      "done",
    );
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(property(revoked.stdout, "Status")).toBe("Revoked");
    expect(property(revoked.stdout, "RevokedBy")).toBe("admin@fabrikam.com");
    const denied = await elevate(
      requester,
      "Test-ElevatedAccess",
      "-Task",
      "Exchange\\New-MoveRequest",
      "-Parameters",
      "@{Identity='ceo@fabrikam.com'}",
    );
    expect(denied.code).toBe(5);
    expect(property(denied.stdout, "Allowed")).toBe("False");
  });

  it("Cancel-ElevatedAccessRequest withdraws a pending request", async () => {
    await elevate(
      admin,
      "New-ElevatedAccessApprovalPolicy",
      "-Task",
      "Exchange\\Search-Mailbox",
      "-ApprovalType",
      "manual",
    );
    const pending = await elevate(
      requester,
      "New-ElevatedAccessRequest",
      "-Task",
      "Exchange\\Search-Mailbox",
      "-Reason",
      "Legal hold",
      "-ExpandProperty",
      "Identity",
    );
    const id = pending.stdout.trim();
    const canceled = await elevate(
      requester,
      "Cancel-ElevatedAccessRequest",
      "-RequestId",
      id,
      "-Select",
      "RequestStatus",
    );
    expect(canceled).toMatchObject({ code: 0, stdout: "\nRequestStatus\n-------------\nCanceled\n\n" });
  });

  it("approver group members: add, show, remove", async () => {
    const added = await elevate(
      admin,
      "Add-ElevatedAccessApproverGroupMember",
      "-Identity",
      "pamapprovers@fabrikam.com",
      "-Member",
      "requester@fabrikam.com",
    );
    expect(added.code, added.stderr).toBe(0);
    expect(property(added.stdout, "Members")).toContain("requester@fabrikam.com");
    const shown = await elevate(admin, "Get-ElevatedAccessApproverGroup", "-Identity", "PAM Approvers", "-Json");
    expect(json<{ Members: string[] }[]>(shown.stdout)[0]!.Members).toContain("requester@fabrikam.com");
    const removed = await elevate(
      admin,
      "Remove-ElevatedAccessApproverGroupMember",
      "-Identity",
      "pamapprovers@fabrikam.com",
      "-Member",
      "requester@fabrikam.com",
    );
    expect(property(removed.stdout, "Members")).toBe("{approver1@fabrikam.com, approver2@fabrikam.com}");
    // Members are for admins, auditors and approvers; the requester still sees the group.
    const asRequester = await elevate(requester, "Get-ElevatedAccessApproverGroup", "-Json");
    expect(json(asRequester.stdout)).toEqual([expect.objectContaining({ Name: "PAM Approvers", Members: null })]);
  });

  it("the audit log and its verification, which exits 5 once the log was altered", async () => {
    const log = await elevate(auditor, "Get-ElevatedAccessAuditLog", "-Json");
    expect(log.code, log.stderr).toBe(0);
    const events = json<{ Sequence: number; CmdletName: string; Caller: string }[]>(log.stdout);
    expect(events.map((event) => event.CmdletName)).toContain("Revoke-ElevatedAccessAuthorization");
    expect(events.map((event) => event.CmdletName).slice(0, 3)).toEqual([
      ...seededAuditActions,
      "Enable-ElevatedAccessControl",
    ]);
    expect(events[2]).toMatchObject({ Sequence: 3, Caller: "admin@fabrikam.com" });
    const verified = await elevate(auditor, "Test-ElevatedAccessAuditLog");
    expect(verified.code).toBe(0);
    expect(property(verified.stdout, "Valid")).toBe("True");
    const fabrikam = await db.organization.findFirstOrThrow({ where: { name: "Fabrikam" } });
    // As a database superuser would: the table refuses edits until its trigger is off.
    await db.$executeRawUnsafe(`ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_append_only"`);
    await db.$executeRaw`
      UPDATE "AuditEvent" SET details = jsonb_set(details, '{edited}', 'true')
      WHERE "organizationId" = ${fabrikam.id}::uuid AND sequence = 4`;
    await db.$executeRawUnsafe(`ALTER TABLE "AuditEvent" ENABLE TRIGGER "AuditEvent_append_only"`);
    const broken = await elevate(auditor, "Test-ElevatedAccessAuditLog", "-Json");
    expect(broken.code).toBe(5);
    expect(json(broken.stdout)).toEqual({ Valid: false, Checked: 3, FirstBrokenSequence: 4 });
  });

  it("logout forgets the sign-in", async () => {
    const result = await elevate(admin, "logout");
    expect(result.stdout).toMatch(/^Signed out of http:\/\/127\.0\.0\.1:\d+\n$/);
    expect((await elevate(admin, "whoami")).code).toBe(3);
  });
});
