import type { ApproverGroup, Prisma } from "../db/client.ts";
import { deprovisionGroup, provisionGroup, updateDirectoryGroup } from "../domain/directory/directory.service.ts";
import { ScimError } from "./errors.ts";
import { dateField, type FilterField, filterWhere, idField, textField } from "./filters.ts";
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
  shows,
} from "./resources.ts";
import { groupExtensionId, keptAttributes, keptOperations, SCIMMY } from "./schemas.ts";

// SCIM Groups are approver groups: displayName is the group's name, the extension's
// `mail` its address (derived from displayName when the directory sends none), and
// members are users by their SCIM id. Who is a member when a decision is taken is who
// may decide, so membership synced from the directory counts for the next approval.

const { Schemas, Resources } = SCIMMY;

/** Domain field names as a SCIM Group names them, for error details. */
export const groupFieldNames = {
  name: "displayName",
  email: `${groupExtensionId}:mail`,
  externalId: "externalId",
  memberIds: "members",
  addMemberIds: "members",
  removeMemberIds: "members",
  members: "members",
  groupId: "id",
  id: "id",
};

const filterFields: Record<string, FilterField> = {
  id: idField(),
  displayname: textField("name"),
  externalid: textField("externalId", { caseExact: true, required: false }),
  "members.value": idField((userId) => ({ members: { some: { userId } } })),
  "meta.created": dateField("createdAt"),
};

type Member = { user: { id: string; email: string } };
type GroupResource = InstanceType<typeof Schemas.Group>;

function resourceOf(group: ApproverGroup, members: Member[] | null, base: string) {
  return {
    id: group.id,
    ...(group.externalId ? { externalId: group.externalId } : {}),
    displayName: group.name,
    ...(members
      ? {
          members: members.map(({ user }) => ({
            value: user.id,
            display: user.email,
            $ref: `${base}/Users/${user.id}`,
          })),
        }
      : {}),
    [groupExtensionId]: { mail: group.email },
    meta: { created: group.createdAt, location: `${base}/Groups/${group.id}` },
  };
}

/** The members of a group, or none of them when the answer leaves them out (Entra asks so for every read). */
function membersOf(wanted: boolean) {
  return {
    members: {
      select: { user: { select: { id: true, email: true } } },
      orderBy: { addedAt: "asc" },
      ...(wanted ? {} : { take: 0 }),
    },
  } satisfies Prisma.ApproverGroupInclude;
}

/** What a SCIM Group says about the approver group. */
function profileOf(resource: GroupResource) {
  const extension = (resource as unknown as Record<string, { mail?: string } | undefined>)[groupExtensionId];
  return {
    name: resource.displayName,
    email: extension?.mail,
    externalId: resource.externalId ?? null,
    memberIds: [...new Set((resource.members ?? []).map((member) => member.value))],
  };
}

/** What changed from `before` to `after`, with membership as members added and removed. */
function changes(before: ReturnType<typeof profileOf>, after: ReturnType<typeof profileOf>) {
  return {
    ...(after.name !== before.name ? { name: after.name } : {}),
    ...(after.email !== undefined && after.email !== before.email ? { email: after.email } : {}),
    ...(after.externalId !== before.externalId ? { externalId: after.externalId } : {}),
    addMemberIds: after.memberIds.filter((id) => !before.memberIds.includes(id)),
    removeMemberIds: before.memberIds.filter((id) => !after.memberIds.includes(id)),
  };
}

async function answer(call: ScimCall, groupId: string, status = 200): Promise<ScimAnswer> {
  const withMembers = shows(call.query, "members");
  const group = await call.db.approverGroup.findUniqueOrThrow({
    where: { id: groupId },
    include: membersOf(withMembers),
  });
  const resource = new Schemas.Group(
    resourceOf(group, withMembers ? group.members : null, call.base),
    "out",
    `${call.base}/Groups`,
    projection(Resources.Group, call.query),
  );
  return { status, body: resource, location: `${call.base}/Groups/${group.id}` };
}

/** The group with all its members, as a SCIM resource to compare or patch. */
async function current(call: ScimCall, id: string) {
  const group = /^[0-9a-f-]{36}$/i.test(id)
    ? await call.db.approverGroup.findFirst({
        where: { id, organizationId: call.ctx.organizationId },
        include: membersOf(true),
      })
    : null;
  if (!group) throw new ScimError(404, null, `id: no group ${id} in your organization`);
  return { group, resource: new Schemas.Group(resourceOf(group, group.members, call.base), "out") };
}

export const groups = {
  async list(call: ScimCall): Promise<ScimAnswer> {
    const { skip, count, startIndex } = page(call.query);
    const where = {
      AND: [
        { organizationId: call.ctx.organizationId },
        filterWhere(call.query.get("filter") ?? undefined, filterFields),
      ],
    } as Prisma.ApproverGroupWhereInput;
    const attributes = projection(Resources.Group, call.query);
    const withMembers = shows(call.query, "members");
    const [total, found] = await Promise.all([
      call.db.approverGroup.count({ where }),
      count === 0
        ? []
        : call.db.approverGroup.findMany({
            where,
            include: membersOf(withMembers),
            orderBy: [{ createdAt: "asc" }, { id: "asc" }],
            skip,
            take: count,
          }),
    ]);
    const resources = found.map(
      (group) =>
        new Schemas.Group(
          resourceOf(group, withMembers ? group.members : null, call.base),
          "out",
          `${call.base}/Groups`,
          attributes,
        ),
    );
    return listAnswer(resources, total, startIndex);
  },

  async get(call: ScimCall, id: string): Promise<ScimAnswer> {
    return answer(call, (await current(call, id)).group.id);
  },

  async create(call: ScimCall): Promise<ScimAnswer> {
    const group = await provisionGroup(
      call.ctx,
      profileOf(incomingSent(Schemas.Group, keptAttributes.Group, call.body)),
    );
    return answer(call, group.id, 201);
  },

  /** PUT replaces name, directory ID and members; without a mail address the group keeps its own. */
  async replace(call: ScimCall, id: string): Promise<ScimAnswer> {
    const { group, resource } = await current(call, id);
    await updateDirectoryGroup(
      call.ctx,
      group.id,
      changes(profileOf(resource), profileOf(incomingSent(Schemas.Group, keptAttributes.Group, call.body))),
    );
    return answer(call, group.id);
  },

  /** PATCH answers 204 No Content, as Entra ID expects of groups: a body would list every member. */
  async patch(call: ScimCall, id: string): Promise<ScimAnswer> {
    const operations = patchOperations(Schemas.Group, call.body, (definition, sent) =>
      keptOperations(definition, keptAttributes.Group, sent),
    );
    const { group, resource } = await current(call, id);
    const after = profileOf(incoming(Schemas.Group, await patched(resource, operations)));
    await updateDirectoryGroup(call.ctx, group.id, changes(profileOf(resource), after));
    return { status: 204 };
  },

  async delete(call: ScimCall, id: string): Promise<ScimAnswer> {
    await deprovisionGroup(call.ctx, (await current(call, id)).group.id);
    return { status: 204 };
  },
};
