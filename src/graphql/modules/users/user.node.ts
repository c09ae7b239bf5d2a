import { isReader } from "../../../domain/access.ts";
import { builder } from "../../builder.ts";
import { PrincipalKindEnum, UserRoleEnum } from "../common/enums.ts";

export const UserNode = builder.prismaNode("User", {
  id: { field: "id" },
  nullable: true,
  // Scoped to the caller's organization: another tenant's ID resolves to null.
  findUnique: (id, ctx) => ({ id, organizationId: ctx.actor.organizationId }),
  fields: (t) => ({
    email: t.exposeString("email", { description: "The user principal name" }),
    displayName: t.exposeString("displayName"),
    kind: t.expose("kind", { type: PrincipalKindEnum }),
    roles: t.field({
      type: [UserRoleEnum],
      nullable: true,
      description: "Null unless it is the caller, or the caller is an admin or auditor",
      resolve: (user, _args, ctx) => (user.id === ctx.actor.id || isReader(ctx.actor) ? user.roles : null),
    }),
  }),
});

builder.queryField("me", (t) =>
  t.prismaField({
    type: "User",
    description: "The caller",
    resolve: (query, _root, _args, ctx) => ctx.db.user.findUniqueOrThrow({ ...query, where: { id: ctx.actor.id } }),
  }),
);
