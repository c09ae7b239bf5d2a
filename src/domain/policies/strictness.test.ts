import { describe, expect, it } from "vitest";
import {
  describeStricter,
  type GoverningPolicy,
  type GrantTerms,
  grantSatisfies,
  mostSpecific,
  stricterIn,
  strictestOf,
  termsOf,
} from "./strictness.ts";

const taskPolicy: GoverningPolicy = {
  id: "task-policy",
  target: "Exchange\\New-MoveRequest",
  approvalType: "MANUAL",
  approverGroupId: "movers",
  requiredApprovals: 2,
  stageCount: 1,
  maxDurationHours: 8,
};
const grant = (terms: Partial<GrantTerms>): GrantTerms => ({
  policyId: "container-policy",
  approvalType: "MANUAL",
  approverGroupId: "movers",
  requiredApprovals: 2,
  stageCount: 1,
  durationHours: 4,
  ...terms,
});

describe("stricterIn", () => {
  it("counts approval stages: a grant through fewer stages does not satisfy a policy with more", () => {
    const twoStages = { ...taskPolicy, stageCount: 2 };
    expect(stricterIn(twoStages, grant({ stageCount: 1 }))).toEqual(["stages"]);
    expect(stricterIn(twoStages, grant({ stageCount: 2 }))).toEqual([]);
    expect(describeStricter(twoStages, ["stages"])).toBe("Exchange\\New-MoveRequest (2 approval stages)");
  });

  it("asks for nothing more when the grant had the same approval", () => {
    expect(stricterIn(taskPolicy, grant({}))).toEqual([]);
  });

  it("counts manual approval as stricter than automatic", () => {
    expect(stricterIn(taskPolicy, grant({ approvalType: "AUTO" }))).toEqual(["approvalType"]);
    expect(stricterIn({ ...taskPolicy, approvalType: "AUTO" }, grant({ approvalType: "MANUAL" }))).toEqual([]);
  });

  it("counts another approver group as stricter, whatever its members", () => {
    expect(stricterIn(taskPolicy, grant({ approverGroupId: "helpdesk" }))).toEqual(["approverGroup"]);
    // An AUTO policy names no approvers to compare.
    expect(stricterIn({ ...taskPolicy, approvalType: "AUTO" }, grant({ approverGroupId: "helpdesk" }))).toEqual([]);
  });

  it("counts a higher quorum as stricter", () => {
    expect(stricterIn(taskPolicy, grant({ requiredApprovals: 1 }))).toEqual(["requiredApprovals"]);
    expect(stricterIn(taskPolicy, grant({ requiredApprovals: 3 }))).toEqual([]);
  });

  it("counts a shorter maximum than the grant's window as stricter", () => {
    expect(stricterIn(taskPolicy, grant({ durationHours: 9 }))).toEqual(["maxDurationHours"]);
    expect(stricterIn(taskPolicy, grant({ durationHours: 8 }))).toEqual([]);
    expect(stricterIn({ ...taskPolicy, maxDurationHours: null }, grant({ durationHours: 720 }))).toEqual([]);
  });

  it("names every dimension at once", () => {
    expect(stricterIn(taskPolicy, grant({ approvalType: "AUTO", durationHours: 720 }))).toEqual([
      "approvalType",
      "maxDurationHours",
    ]);
  });
});

describe("grantSatisfies", () => {
  it("accepts the grant's own policy even when its terms look stricter", () => {
    expect(grantSatisfies([taskPolicy], grant({ policyId: "task-policy", requiredApprovals: 1 }))).toBe(true);
  });

  it("needs every equally specific policy to be satisfied", () => {
    const other = { ...taskPolicy, id: "other", approverGroupId: "security" };
    expect(grantSatisfies([taskPolicy, other], grant({}))).toBe(false);
    expect(grantSatisfies([taskPolicy, { ...other, approverGroupId: "movers" }], grant({}))).toBe(true);
  });
});

describe("strictestOf", () => {
  it("picks the policy whose approval satisfies the others", () => {
    const lax = { ...taskPolicy, id: "lax", approvalType: "AUTO" as const, requiredApprovals: 1 };
    expect(strictestOf([lax, taskPolicy], 4)?.id).toBe("task-policy");
  });

  it("finds none when the policies name different groups", () => {
    expect(strictestOf([taskPolicy, { ...taskPolicy, id: "b", approverGroupId: "security" }], 4)).toBeNull();
  });

  it("builds a request's terms from its policy", () => {
    expect(termsOf(taskPolicy, 3)).toEqual({
      policyId: "task-policy",
      approvalType: "MANUAL",
      approverGroupId: "movers",
      requiredApprovals: 2,
      stageCount: 1,
      durationHours: 3,
    });
  });
});

describe("mostSpecific and describeStricter", () => {
  it("keeps the candidates nearest the task", () => {
    expect(mostSpecific([{ depth: 2 }, { depth: 1, id: "a" }, { depth: 1, id: "b" }])).toEqual([
      { depth: 1, id: "a" },
      { depth: 1, id: "b" },
    ]);
  });

  it("says what the stricter policy asks for", () => {
    expect(describeStricter(taskPolicy, ["approvalType", "requiredApprovals", "maxDurationHours"])).toBe(
      "Exchange\\New-MoveRequest (manual approval, 2 approvals, at most 8 hours)",
    );
  });
});
