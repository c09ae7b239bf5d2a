import type { PrincipalKind, Prisma, User } from "../db/client.ts";
import {
  type DirectoryUser,
  deprovisionUser,
  directoryUsers,
  provisionUser,
  updateDirectoryUser,
} from "../domain/directory/directory.service.ts";
import { ScimError } from "./errors.ts";
import {
  booleanField,
  constantField,
  dateField,
  enumField,
  type FilterField,
  filterWhere,
  idField,
  textField,
} from "./filters.ts";
import {
  incoming,
  incomingSent,
  listAnswer,
  page,
  patched,
  patchOperations,
  projection,
  type ScimAnswer,
  type ScimCall,
} from "./resources.ts";
import { keptAttributes, keptOperations, SCIMMY } from "./schemas.ts";

// SCIM Users are Elevate's users: userName is the address (the user principal name,
// which tokens carry as `upn`), answered as the one work address in `emails` too;
// displayName, externalId, active and userType (Member, Guest) are kept. Roles are not
// the directory's: they come from tokens' app roles or from admins.

const { Schemas, Resources } = SCIMMY;

/** Domain field names as a SCIM User names them, for error details. */
export const userFieldNames = {
  email: "userName",
  displayName: "displayName",
  kind: "userType",
  externalId: "externalId",
  active: "active",
  id: "id",
};

const kindNames: Record<PrincipalKind, string> = { MEMBER: "Member", GUEST: "Guest", SERVICE: "Service" };

const filterFields: Record<string, FilterField> = {
  id: idField(),
  username: textField("email"),
  "emails.value": textField("email"),
  "emails.type": constantField("work"),
  "emails.primary": constantField(true),
  displayname: textField("displayName"),
  externalid: textField("externalId", { caseExact: true, required: false }),
  active: booleanField("active"),
  usertype: enumField("kind", { Member: "MEMBER", Guest: "GUEST", Service: "SERVICE" }),
  "meta.created": dateField("createdAt"),
};

function resourceOf(user: User, base: string) {
  return {
    id: user.id,
    ...(user.externalId ? { externalId: user.externalId } : {}),
    userName: user.email,
    displayName: user.displayName,
    active: user.active,
    userType: kindNames[user.kind],
    emails: [{ value: user.email, type: "work", primary: true }],
    meta: { created: user.createdAt, location: `${base}/Users/${user.id}` },
  };
}

type UserResource = InstanceType<typeof Schemas.User>;

/**
 * What a SCIM User says about the user. The name shown is displayName, else the
 * formatted name, else given and family name, else the address. userType "Guest"
 * makes a GUEST (who never approves), "Service" a SERVICE principal, any other a MEMBER.
 */
function profileOf(resource: UserResource): Partial<DirectoryUser> {
  const name = resource.name as { formatted?: string; givenName?: string; familyName?: string } | undefined;
  const userType = (resource as { userType?: string }).userType?.toLowerCase();
  return {
    email: resource.userName,
    displayName:
      resource.displayName?.trim() ||
      name?.formatted?.trim() ||
      [name?.givenName, name?.familyName].filter(Boolean).join(" ").trim() ||
      resource.userName,
    ...(userType ? { kind: userType === "guest" ? "GUEST" : userType === "service" ? "SERVICE" : "MEMBER" } : {}),
    externalId: resource.externalId ?? null,
    ...(typeof resource.active === "boolean" ? { active: resource.active } : {}),
  };
}

/** The fields `after` sets to something other than `before`: only those are written. */
function changes(before: Partial<DirectoryUser>, after: Partial<DirectoryUser>): Partial<DirectoryUser> {
  return Object.fromEntries(
    Object.entries(after).filter(
      ([field, value]) => value !== undefined && value !== before[field as keyof DirectoryUser],
    ),
  );
}

function answer(call: ScimCall, user: User, status = 200): ScimAnswer {
  const resource = new Schemas.User(
    resourceOf(user, call.base),
    "out",
    `${call.base}/Users`,
    projection(Resources.User, call.query),
  );
  return { status, body: resource, location: `${call.base}/Users/${user.id}` };
}

async function current(call: ScimCall, id: string): Promise<User> {
  const user = /^[0-9a-f-]{36}$/i.test(id)
    ? await call.db.user.findFirst({ where: { ...directoryUsers(call.ctx.organizationId), id } })
    : null;
  if (!user) throw new ScimError(404, null, `id: no user ${id} in your organization`);
  return user;
}

export const users = {
  async list(call: ScimCall): Promise<ScimAnswer> {
    const { skip, count, startIndex } = page(call.query);
    const where = {
      AND: [directoryUsers(call.ctx.organizationId), filterWhere(call.query.get("filter") ?? undefined, filterFields)],
    } as Prisma.UserWhereInput;
    const attributes = projection(Resources.User, call.query);
    const [total, found] = await Promise.all([
      call.db.user.count({ where }),
      count === 0
        ? []
        : call.db.user.findMany({ where, orderBy: [{ createdAt: "asc" }, { id: "asc" }], skip, take: count }),
    ]);
    const resources = found.map(
      (user) => new Schemas.User(resourceOf(user, call.base), "out", `${call.base}/Users`, attributes),
    );
    return listAnswer(resources, total, startIndex);
  },

  async get(call: ScimCall, id: string): Promise<ScimAnswer> {
    return answer(call, await current(call, id));
  },

  async create(call: ScimCall): Promise<ScimAnswer> {
    const profile = profileOf(incomingSent(Schemas.User, keptAttributes.User, call.body));
    const user = await provisionUser(call.ctx, {
      ...profile,
      email: profile.email!,
      displayName: profile.displayName!,
    });
    return answer(call, user, 201);
  },

  /** PUT replaces what the body says; without `active` or `userType` those stay as they are. */
  async replace(call: ScimCall, id: string): Promise<ScimAnswer> {
    const user = await current(call, id);
    const before = profileOf(incoming(Schemas.User, resourceOf(user, call.base)));
    const updated = await updateDirectoryUser(
      call.ctx,
      user.id,
      changes(before, profileOf(incomingSent(Schemas.User, keptAttributes.User, call.body))),
    );
    return answer(call, updated);
  },

  async patch(call: ScimCall, id: string): Promise<ScimAnswer> {
    const operations = patchOperations(Schemas.User, call.body, (definition, sent) =>
      keptOperations(definition, keptAttributes.User, sent),
    );
    const user = await current(call, id);
    const resource = new Schemas.User(resourceOf(user, call.base), "out");
    const before = profileOf(incoming(Schemas.User, resource));
    const after = profileOf(incoming(Schemas.User, await patched(resource, operations)));
    const updated = await updateDirectoryUser(call.ctx, user.id, changes(before, after));
    return answer(call, updated);
  },

  /** DELETE deactivates: the user's history stays, and a later create of the same userName is answered 409. */
  async delete(call: ScimCall, id: string): Promise<ScimAnswer> {
    await deprovisionUser(call.ctx, (await current(call, id)).id);
    return { status: 204 };
  },
};
