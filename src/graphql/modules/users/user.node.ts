import { isReader } from "../../../domain/access.ts";
import { deactivateUser, reactivateUser, setUserRoles, userSearch } from "../../../domain/users/users.service.ts";
import { registerLockboxVendor } from "../../../domain/users/vendors.service.ts";
import { builder } from "../../builder.ts";
import { PrincipalKindEnum, UserRoleEnum } from "../common/enums.ts";
import { mutationErrors } from "../common/mutation-result.ts";

export const UserNode = builder.prismaNode("User", {
  id: { field: "id" },
  nullable: true,
  // Scoped to the caller's organization: another tenant's ID resolves to null.
  findUnique: (id, ctx) => ({ id, organizationId: ctx.actor.organizationId }),
  fields: (t) => ({
    identity: t.exposeString("id", { description: "The user's GUID in Elevate" }),
    email: t.exposeString("email", { description: "The user principal name" }),
    displayName: t.exposeString("displayName"),
    kind: t.expose("kind", { type: PrincipalKindEnum }),
    roles: t.field({
      type: [UserRoleEnum],
      nullable: true,
      description: "Null unless it is the caller, or the caller is an admin or auditor",
      // A vendor holds no role whatever its row says (domain/identity.ts).
      resolve: (user, _args, ctx) =>
        user.id === ctx.actor.id || isReader(ctx.actor) ? (user.vendorName ? [] : user.roles) : null,
    }),
    vendorName: t.exposeString("vendorName", {
      nullable: true,
      description: "Set for a vendor's support identity registered for Customer Lockbox",
    }),
    active: t.exposeBoolean("active", { description: "A deactivated user is refused everywhere" }),
    signedIn: t.boolean({
      description: "Has signed in through the identity provider (an invited user has not yet)",
      select: { subject: true },
      resolve: (user) => user.subject !== null,
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const Organization = builder.prismaObject("Organization", {
  fields: (t) => ({
    name: t.exposeString("name"),
    tenantId: t.exposeString("tenantId", { description: "The identity provider's tenant its tokens name" }),
    rolesFromToken: t.exposeBoolean("rolesFromToken", {
      description: "Users' roles follow the tokens' app roles instead of being set here",
    }),
    scimEnabled: t.boolean({
      description: "A SCIM provisioning secret is issued",
      select: { scimSecretHash: true },
      resolve: (organization) => organization.scimSecretHash !== null,
    }),
  }),
});

const UserFilter = builder.inputType("UserFilter", {
  fields: (t) => ({
    search: t.string({ description: "Part of the address or the name" }),
    role: t.field({ type: UserRoleEnum }),
    active: t.boolean(),
    vendor: t.boolean({ description: "true: Customer Lockbox vendors only; false: everyone else" }),
  }),
});

builder.queryFields((t) => ({
  me: t.prismaField({
    type: "User",
    description: "The caller",
    // Columns only (no relation selected, such as approverGroups): the row the actor was resolved with.
    resolve: (query, _root, _args, ctx) =>
      ctx.actor.user && Object.keys(query).length === 0
        ? ctx.actor.user
        : ctx.db.user.findUniqueOrThrow({ ...query, where: { id: ctx.actor.id } }),
  }),
  organization: t.prismaField({
    type: Organization,
    description: "The caller's organization",
    resolve: (query, _root, _args, ctx) =>
      ctx.db.organization.findUniqueOrThrow({ ...query, where: { id: ctx.actor.organizationId } }),
  }),
  users: t.prismaConnection(
    {
      type: "User",
      cursor: "id",
      authScopes: { reader: true },
      description: "The organization's users (admins and auditors)",
      args: { filter: t.arg({ type: UserFilter }) },
      totalCount: (_parent, args, ctx) =>
        ctx.db.user.count({ where: userSearch(ctx.actor.organizationId, args.filter) }),
      resolve: (query, _root, args, ctx) =>
        ctx.db.user.findMany({
          ...query,
          where: userSearch(ctx.actor.organizationId, args.filter),
          orderBy: { id: "asc" },
        }),
    },
    { name: "UserConnection" },
    { name: "UserEdge" },
  ),
}));

const RegisterLockboxVendorInput = builder.inputType("RegisterLockboxVendorInput", {
  fields: (t) => ({
    vendorName: t.string({ required: true, description: "The vendor, e.g. Contoso Support" }),
    subject: t.string({
      required: true,
      description: "The vendor's service identity at the identity provider: the oid (else sub) of its tokens",
    }),
    displayName: t.string(),
  }),
});

const UserInput = builder.inputType("UserInput", {
  fields: (t) => ({ userId: t.id({ required: true, description: "Global ID or GUID" }) }),
});

const SetUserRolesInput = builder.inputType("SetUserRolesInput", {
  fields: (t) => ({
    userId: t.id({ required: true }),
    roles: t.field({ type: [UserRoleEnum], required: true }),
  }),
});

builder.mutationFields((t) => ({
  setUserRoles: t.field({
    type: UserNode,
    description: "Where the organization does not take roles from tokens (admins)",
    errors: mutationErrors("SetUserRolesResult"),
    args: { input: t.arg({ type: SetUserRolesInput, required: true }) },
    resolve: (_root, { input }, ctx) => setUserRoles(ctx.services, input),
  }),
  deactivateUser: t.field({
    type: UserNode,
    description:
      "Refuses the user at once, cancels their pending requests and revokes their active access, each audited (admins)",
    errors: mutationErrors("DeactivateUserResult"),
    args: { input: t.arg({ type: UserInput, required: true }) },
    resolve: (_root, { input }, ctx) => deactivateUser(ctx.services, input),
  }),
  registerLockboxVendor: t.field({
    type: UserNode,
    description:
      "Registers a vendor's service identity for Customer Lockbox: it files only Lockbox requests, sees only its own, never decides (admins)",
    errors: mutationErrors("RegisterLockboxVendorResult"),
    args: { input: t.arg({ type: RegisterLockboxVendorInput, required: true }) },
    resolve: (_root, { input }, ctx) => registerLockboxVendor(ctx.services, input),
  }),
  reactivateUser: t.field({
    type: UserNode,
    errors: mutationErrors("ReactivateUserResult"),
    args: { input: t.arg({ type: UserInput, required: true }) },
    resolve: (_root, { input }, ctx) => reactivateUser(ctx.services, input),
  }),
}));
