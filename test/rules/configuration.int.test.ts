import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../graphql/index.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { AddCatalogEntry, AuthorizeTask, CancelRequest, CreatePolicy } from "../helpers/documents.ts";
import { checkTask, createPolicy, createRequest, enableControl, rawId } from "../helpers/fixtures.ts";
import { databaseSnapshot } from "../helpers/snapshot.ts";

// Rules of configuration and requests that no other test would notice losing.

const UpdateCatalogEntry = graphql(`
  mutation RulesUpdateCatalogEntry($input: UpdateCatalogEntryInput!) {
    updateCatalogEntry(input: $input) {
      __typename
      ... on CatalogEntry {
        id
        name
      }
      ...ErrorFields
    }
  }
`);

const RemoveCatalogEntry = graphql(`
  mutation RulesRemoveCatalogEntry($input: RemoveCatalogEntryInput!) {
    removeCatalogEntry(input: $input) {
      __typename
      ...ErrorFields
    }
  }
`);

// The API's clock: every rule about time reads it. Null: the real time.
let now: Date | null = null;
const clock = () => now ?? new Date();

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ clock });
});
afterAll(() => t.close());

const admin = "admin@fabrikam.com";

async function addEntry(input: { type: "TASK" | "ROLE" | "ROLE_GROUP"; name: string; members?: string[] }) {
  return (await t.as(admin, AddCatalogEntry, { input })).addCatalogEntry;
}

async function entryId(name: string): Promise<string> {
  const added = await addEntry({ type: "TASK", name });
  if (added.__typename !== "CatalogEntry") throw new Error(JSON.stringify(added));
  return added.id;
}

/** Runs `act` and expects it to have written nothing at all. */
async function writesNothing(act: () => Promise<void>) {
  const before = await databaseSnapshot(t.db);
  await act();
  expect(await databaseSnapshot(t.db)).toEqual(before);
}

// First, while control is off and Fabrikam has no default approver group.
describe("a policy's approver group", () => {
  it("is required while the control names no default group, and nothing is written", async () => {
    expect(
      (await t.db.elevatedAccessControl.findMany({ where: { organization: { name: "Fabrikam" } } }))[0]
        ?.defaultApproverGroupId,
    ).toBeNull();
    await writesNothing(async () => {
      const answer = (
        await t.as(admin, CreatePolicy, { input: { target: "Exchange\\Set-Mailbox", approvalType: "MANUAL" } })
      ).createApprovalPolicy;
      expect(answer).toMatchObject({
        code: "VALIDATION",
        message: expect.stringMatching(/^approverGroup: .*required/),
      });
    });
    // Naming one is enough.
    const named = (
      await t.as(admin, CreatePolicy, {
        input: { target: "Exchange\\Set-Mailbox", approvalType: "MANUAL", approverGroup: "pamapprovers@fabrikam.com" },
      })
    ).createApprovalPolicy;
    expect(named.__typename).toBe("ApprovalPolicy");
  });
});

describe("with the control on", () => {
  beforeAll(async () => {
    await enableControl(t);
  });

  describe("requiredApprovals", () => {
    it("accepts 1 to 10 and refuses 0, 11 and more, naming the field and writing nothing", async () => {
      for (const requiredApprovals of [0, 11, 1000]) {
        await writesNothing(async () => {
          const answer = (
            await t.as(admin, CreatePolicy, {
              input: { target: "Exchange\\Add-MailboxPermission", approvalType: "MANUAL", requiredApprovals },
            })
          ).createApprovalPolicy;
          expect(answer, String(requiredApprovals)).toMatchObject({
            code: "VALIDATION",
            message: expect.stringMatching(/^requiredApprovals: must be at (least 1|most 10)$/),
          });
        });
      }
      for (const [target, requiredApprovals] of [
        ["Exchange\\Add-MailboxPermission", 10],
        ["Exchange\\New-MoveRequest", 1],
      ] as const) {
        const answer = (
          await t.as(admin, CreatePolicy, { input: { target, approvalType: "MANUAL", requiredApprovals } })
        ).createApprovalPolicy;
        expect(answer).toMatchObject({ __typename: "ApprovalPolicy" });
      }
    });
  });

  describe("cancelling", () => {
    it("answers REQUEST_EXPIRED after expiresAt, before any job has expired the request, and writes nothing", async () => {
      const requestId = await createRequest(t, "Exchange\\Set-Mailbox");
      const request = await t.db.accessRequest.findUniqueOrThrow({ where: { id: rawId(requestId) } });
      try {
        now = new Date(request.expiresAt.getTime() + 1);
        await writesNothing(async () => {
          const answer = (await t.as("requester@fabrikam.com", CancelRequest, { input: { requestId } }))
            .cancelAccessRequest;
          expect(answer).toMatchObject({ code: "REQUEST_EXPIRED" });
        });
        // A moment before, the same call cancels.
        now = new Date(request.expiresAt.getTime() - 1);
        const canceled = (await t.as("requester@fabrikam.com", CancelRequest, { input: { requestId } }))
          .cancelAccessRequest;
        expect(canceled).toMatchObject({ __typename: "AccessRequest", status: "CANCELED" });
      } finally {
        now = null;
      }
    });
  });

  describe("catalog conflicts", () => {
    it("refuses a second entry of one type and name, a rename onto another's name, and members for a task", async () => {
      const vault = await entryId("Vault\\Reset-Vault");
      await entryId("Vault\\Open-Vault");
      await writesNothing(async () => {
        expect(await addEntry({ type: "TASK", name: "Vault\\Reset-Vault" })).toMatchObject({
          code: "CONFLICT",
          message: expect.stringMatching(/^name: .*already has a TASK named Vault\\Reset-Vault/),
        });
        expect(
          (await t.as(admin, UpdateCatalogEntry, { input: { id: vault, name: "Vault\\Open-Vault" } }))
            .updateCatalogEntry,
        ).toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/^name: /) });
        expect(
          await addEntry({ type: "TASK", name: "Vault\\Seal-Vault", members: ["Vault\\Open-Vault"] }),
        ).toMatchObject({
          code: "CONFLICT",
          message: "members: a task has no members",
        });
        expect(
          (await t.as(admin, UpdateCatalogEntry, { input: { id: vault, members: ["Vault\\Open-Vault"] } }))
            .updateCatalogEntry,
        ).toMatchObject({ code: "CONFLICT", message: "members: a task has no members" });
      });
      // A role may have the same name as a task: conflicts are per type.
      expect(
        await addEntry({ type: "ROLE", name: "Vault\\Reset-Vault", members: ["Vault\\Reset-Vault"] }),
      ).toMatchObject({
        __typename: "CatalogEntry",
      });
    });

    it("refuses removing an entry a policy targets or requests were filed for", async () => {
      const governed = await entryId("Vault\\Close-Vault");
      await createPolicy(t, { target: "Vault\\Close-Vault", approvalType: "MANUAL" });
      const requested = await entryId("Vault\\Audit-Vault");
      const policy = await createPolicy(t, { target: "Vault\\Audit-Vault", approvalType: "MANUAL" });
      await createRequest(t, "Vault\\Audit-Vault");
      // The policy goes (its pending request is canceled); the request keeps the entry.
      await t.as(
        admin,
        graphql(`
        mutation RulesRemovePolicy($input: RemoveApprovalPolicyInput!) {
          removeApprovalPolicy(input: $input) { __typename }
        }
      `),
        { input: { id: policy } },
      );
      await writesNothing(async () => {
        expect((await t.as(admin, RemoveCatalogEntry, { input: { id: governed } })).removeCatalogEntry).toMatchObject({
          code: "CONFLICT",
          message: expect.stringMatching(/^id: a policy targets Vault\\Close-Vault/),
        });
        expect((await t.as(admin, RemoveCatalogEntry, { input: { id: requested } })).removeCatalogEntry).toMatchObject({
          code: "CONFLICT",
          message: expect.stringMatching(/^id: 1 requests were filed/),
        });
      });
    });
  });

  describe("the coverage cache", () => {
    it("follows catalog changes at once: a new task, a role's new member, a removed task", async () => {
      const task = "Vault\\Rotate-Keys";
      // Unknown to the catalog: denied, and the answer is cached.
      expect(await checkTask(t, "requester@fabrikam.com", task)).toMatchObject({ reason: "UNKNOWN_TASK" });
      expect(await checkTask(t, "requester@fabrikam.com", task)).toMatchObject({ reason: "UNKNOWN_TASK" });
      const id = await entryId(task);
      expect(await checkTask(t, "requester@fabrikam.com", task)).toMatchObject({
        allowed: true,
        reason: "NOT_GOVERNED",
      });

      // A governed role that gains the task as a member governs it from then on.
      const role = await addEntry({ type: "ROLE", name: "Vault Keepers", members: ["Vault\\Open-Vault"] });
      if (role.__typename !== "CatalogEntry") throw new Error(JSON.stringify(role));
      await createPolicy(t, { type: "ROLE", target: "Vault Keepers", approvalType: "MANUAL" });
      expect(await checkTask(t, "requester@fabrikam.com", task)).toMatchObject({ reason: "NOT_GOVERNED" });
      const updated = (
        await t.as(admin, UpdateCatalogEntry, { input: { id: role.id, members: ["Vault\\Open-Vault", task] } })
      ).updateCatalogEntry;
      expect(updated.__typename).toBe("CatalogEntry");
      expect(await checkTask(t, "requester@fabrikam.com", task)).toMatchObject({
        allowed: false,
        reason: "NO_AUTHORIZATION",
      });

      // Out of the role and out of the catalog: unknown again.
      await t.as(admin, UpdateCatalogEntry, { input: { id: role.id, members: ["Vault\\Open-Vault"] } });
      expect(await checkTask(t, "requester@fabrikam.com", task)).toMatchObject({ reason: "NOT_GOVERNED" });
      expect((await t.as(admin, RemoveCatalogEntry, { input: { id } })).removeCatalogEntry.__typename).toBe(
        "CatalogEntry",
      );
      expect(await checkTask(t, "requester@fabrikam.com", task)).toMatchObject({ reason: "UNKNOWN_TASK" });
    });
  });

  describe("authorizeTask's parameters", () => {
    it("accepts up to 16 KB of JSON and refuses more with VALIDATION naming parameters, logging the refusal", async () => {
      const token = await t.tokenFor("requester@fabrikam.com");
      const check = (size: number) =>
        t.request(token, AuthorizeTask, {
          input: { task: "Exchange\\Add-MailboxPermission", parameters: { Identity: "x".repeat(size) } },
        });
      const fits = await check(16_000);
      expect(fits.data?.authorizeTask).toMatchObject({ __typename: "TaskAuthorization" });
      const before = await databaseSnapshot(t.db, ["TaskExecution"]);
      const executions = await t.db.taskExecution.count();
      const tooBig = await check(17_000);
      expect(tooBig.data?.authorizeTask).toMatchObject({
        code: "VALIDATION",
        message: "parameters: must be at most 16 KB of JSON",
      });
      expect(await databaseSnapshot(t.db, ["TaskExecution"])).toEqual(before);
      // The refusal is logged, without the parameters.
      const logged = await t.db.taskExecution.findMany({ where: { at: { gte: new Date(0) } }, orderBy: { id: "asc" } });
      expect(logged).toHaveLength(executions + 1);
      expect(logged.at(-1)).toMatchObject({ reason: "REFUSED", allowed: false, parameters: null });
    });
  });
});
