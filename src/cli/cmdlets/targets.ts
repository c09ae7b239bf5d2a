import { text } from "../cmdlet.ts";
import type { PolicyType } from "../graphql/graphql.ts";

/** -Task, -Role or -RoleGroup: what a policy or a request is about (exactly one, see oneOf). */
export function targetParameters(task: string) {
  return {
    Task: text(task, { conflicts: ["Role", "RoleGroup"] }),
    Role: text("A management role, e.g. 'Move Mailboxes'", { conflicts: ["Task", "RoleGroup"] }),
    RoleGroup: text("A role group, e.g. 'Recipient Management'", { conflicts: ["Task", "Role"] }),
  };
}

export function targetOf(values: { Task?: string; Role?: string; RoleGroup?: string }): {
  type: PolicyType;
  target: string;
} {
  if (values.Role !== undefined) return { type: "ROLE", target: values.Role };
  if (values.RoleGroup !== undefined) return { type: "ROLE_GROUP", target: values.RoleGroup };
  return { type: "TASK", target: values.Task ?? "" };
}
