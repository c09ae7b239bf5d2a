import { builder } from "../../builder.ts";

export const PrincipalKindEnum = builder.enumType("PrincipalKind", { values: ["MEMBER", "GUEST", "SERVICE"] as const });
export const UserRoleEnum = builder.enumType("UserRole", { values: ["ADMIN", "AUDITOR", "ENFORCER"] as const });

export const UserNode = builder.prismaNode("User", {
  id: { field: "id" },
  nullable: true,
  // Scoped to the caller's organization: another tenant's ID resolves to null.
  findUnique: (id, ctx) => ({ id, organizationId: ctx.actor.organizationId }),
  fields: (t) => ({
    email: t.exposeString("email", { description: "The user principal name" }),
    displayName: t.exposeString("displayName"),
    kind: t.expose("kind", { type: PrincipalKindEnum }),
    roles: t.expose("roles", { type: [UserRoleEnum] }),
  }),
});

builder.queryField("me", (t) =>
  t.prismaField({
    type: "User",
    description: "The caller",
    resolve: (query, _root, _args, ctx) => ctx.db.user.findUniqueOrThrow({ ...query, where: { id: ctx.actor.id } }),
  }),
);
