import type { VariablesOf } from "@graphql-typed-document-node/core";
import { exchangeRoleGroups, exchangeRoles } from "../../src/domain/catalog/exchange-catalog.ts";
import { decodeGlobalId } from "../../src/domain/global-id.ts";
import type { TestApp } from "./app.ts";
import { ApproveRequest, AuthorizeTask, CreatePolicy, CreateRequest, EnableControl } from "./documents.ts";

/** Turns the control on with the seeded approver group, once per database. */
export async function enableControl(t: TestApp, systemAccounts: string[] = []): Promise<void> {
  const result = (
    await t.as("admin@fabrikam.com", EnableControl, {
      input: { adminGroup: "pamapprovers@fabrikam.com", systemAccounts },
    })
  ).enableElevatedAccessControl;
  if (result.__typename !== "ElevatedAccessControl") throw new Error(`enable failed: ${JSON.stringify(result)}`);
}

type PolicyInput = VariablesOf<typeof CreatePolicy>["input"];

export async function createPolicy(t: TestApp, input: PolicyInput): Promise<string> {
  const result = (await t.as("admin@fabrikam.com", CreatePolicy, { input })).createApprovalPolicy;
  if (result.__typename !== "ApprovalPolicy") throw new Error(`policy failed: ${JSON.stringify(result)}`);
  return result.id;
}

export async function createRequest(
  t: TestApp,
  target: string,
  options: { as?: string; durationHours?: number; type?: "TASK" | "ROLE" | "ROLE_GROUP" } = {},
): Promise<string> {
  const result = await fileRequest(t, target, options);
  if (result.__typename !== "AccessRequest") throw new Error(`request failed: ${JSON.stringify(result)}`);
  return result.id;
}

/** Files a request and returns what the API answered, errors included. */
export async function fileRequest(
  t: TestApp,
  target: string,
  options: { as?: string; durationHours?: number; type?: "TASK" | "ROLE" | "ROLE_GROUP" } = {},
) {
  return (
    await t.as(options.as ?? "requester@fabrikam.com", CreateRequest, {
      input: { target, reason: "Customer escalation 4711", durationHours: options.durationHours, type: options.type },
    })
  ).createAccessRequest;
}

/** Checks a task as a user, or as the enforcement service on behalf of `userEmail`. */
export async function checkTask(t: TestApp, as: string, task: string, userEmail?: string) {
  return (await t.as(as, AuthorizeTask, { input: { task, userEmail } })).authorizeTask;
}

export async function approve(t: TestApp, requestId: string, approver = "approver1@fabrikam.com") {
  return (await t.as(approver, ApproveRequest, { input: { requestId } })).approveAccessRequest;
}

/** The UUID behind a Relay global ID, for direct database checks. */
export function rawId(globalId: string): string {
  const decoded = decodeGlobalId(globalId);
  if (!decoded) throw new Error(`${globalId} is not a global ID`);
  return decoded.id;
}

/**
 * Fresh targets under one role group's policy, for files that keep several requests
 * of one requester open: a requester may have one open request per target.
 */
export function targetsOf(roleGroup: keyof typeof exchangeRoleGroups, except: string[] = []): () => string {
  const tasks = exchangeRoleGroups[roleGroup]!.flatMap((role) => exchangeRoles[role] ?? []).filter(
    (task) => !except.includes(task),
  );
  let next = 0;
  return () => {
    const task = tasks[next++];
    if (!task) throw new Error(`${roleGroup} has no more tasks for this test file`);
    return task;
  };
}
