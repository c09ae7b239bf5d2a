import { type Api, collect, expectType } from "../client.ts";
import { cmdlet, list, text } from "../cmdlet.ts";
import { ApiError } from "../errors.ts";
import { graphql } from "../graphql/gql.ts";
import type { GroupFieldsFragment } from "../graphql/graphql.ts";
import { many, one, type Row, type View } from "../output.ts";

// Exchange's approver groups are mail-enabled security groups managed with the
// DistributionGroup cmdlets; Elevate keeps its own, so these carry its noun.

graphql(`
  fragment GroupFields on ApproverGroup {
    id
    name
    email
    description
    members @include(if: $withMembers) { email }
  }
`);

const groupView: View = {
  properties: ["Name", "PrimarySmtpAddress", "Description", "Members", "Id"],
  table: ["Name", "PrimarySmtpAddress", "Members"],
};

function groupRow(group: GroupFieldsFragment): Row {
  return {
    Name: group.name,
    PrimarySmtpAddress: group.email,
    Description: group.description ?? null,
    Members: group.members?.map((member) => member.email) ?? null,
    Id: group.id,
  };
}

const CreateGroup = graphql(`
  mutation CliCreateGroup($input: CreateApproverGroupInput!, $withMembers: Boolean! = true) {
    createApproverGroup(input: $input) {
      __typename
      ... on ApproverGroup { ...GroupFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

export const newGroup = cmdlet({
  name: "New-ElevatedAccessApproverGroup",
  synopsis: "Creates an approver group (admins)",
  examples: [
    "New-ElevatedAccessApproverGroup -Name 'Mailbox Managers' -PrimarySmtpAddress 'mbmanagers@fabrikam.com' -Members @('approver1@fabrikam.com','approver2@fabrikam.com')",
  ],
  parameters: {
    Name: text("Display name", { mandatory: true }),
    PrimarySmtpAddress: text("The group's address, which policies name", { mandatory: true, aliases: ["Email"] }),
    Description: text("What the group approves"),
    Members: list("Members' addresses", { aliases: ["Member"] }),
  },
  view: groupView,
  async run(values, { api }) {
    const data = await api.request(CreateGroup, {
      input: {
        name: values.Name,
        email: values.PrimarySmtpAddress,
        description: values.Description ?? null,
        memberEmails: values.Members ?? [],
      },
    });
    return one(groupRow(expectType(data.createApproverGroup, "ApproverGroup")));
  },
});

const Groups = graphql(`
  query CliGroups($first: Int, $after: String, $withMembers: Boolean!) {
    approverGroups(first: $first, after: $after) {
      edges { node { ...GroupFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

async function allGroups(api: Api, withMembers: boolean): Promise<GroupFieldsFragment[]> {
  return collect(Number.POSITIVE_INFINITY, async (first, after) => {
    const data = await api.request(Groups, { first, after, withMembers });
    return data.approverGroups;
  });
}

function matches(group: GroupFieldsFragment, identity: string): boolean {
  const wanted = identity.toLowerCase();
  return group.id === identity || group.email.toLowerCase() === wanted || group.name.toLowerCase() === wanted;
}

export const getGroup = cmdlet({
  name: "Get-ElevatedAccessApproverGroup",
  synopsis: "Shows approver groups (members: admins, auditors and approvers only)",
  examples: ["Get-ElevatedAccessApproverGroup", "Get-ElevatedAccessApproverGroup -Identity pamapprovers@fabrikam.com"],
  parameters: { Identity: text("The group's address, name or ID") },
  view: groupView,
  async run(values, { api }) {
    let groups: GroupFieldsFragment[];
    try {
      groups = await allGroups(api, true);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "FORBIDDEN")) throw error;
      groups = await allGroups(api, false);
    }
    if (values.Identity === undefined) return many(groups.map(groupRow));
    const group = groups.find((g) => matches(g, values.Identity!));
    if (!group) throw new ApiError("NOT_FOUND", `no approver group ${values.Identity}`, "Identity");
    return many([groupRow(group)]);
  },
});

/** The ID the membership mutations take: the group named by address or name, else the ID as given. */
async function groupId(api: Api, identity: string): Promise<string> {
  return (await allGroups(api, false)).find((group) => matches(group, identity))?.id ?? identity;
}

const AddMembers = graphql(`
  mutation CliAddMembers($input: ChangeApproverGroupMembersInput!, $withMembers: Boolean! = true) {
    addApproverGroupMembers(input: $input) {
      __typename
      ... on ApproverGroup { ...GroupFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

const RemoveMembers = graphql(`
  mutation CliRemoveMembers($input: ChangeApproverGroupMembersInput!, $withMembers: Boolean! = true) {
    removeApproverGroupMembers(input: $input) {
      __typename
      ... on ApproverGroup { ...GroupFields }
      ... on Error { code message }
      ... on ValidationError { field }
      ... on NotFoundError { field }
    }
  }
`);

const memberParameters = {
  Identity: text("The group's address, name or ID", { mandatory: true }),
  Member: list("Members' addresses", { mandatory: true, aliases: ["Members"] }),
};

export const addGroupMember = cmdlet({
  name: "Add-ElevatedAccessApproverGroupMember",
  synopsis: "Adds members to an approver group (admins)",
  examples: [
    "Add-ElevatedAccessApproverGroupMember -Identity 'mbmanagers@fabrikam.com' -Member approver2@fabrikam.com",
  ],
  parameters: memberParameters,
  view: groupView,
  async run(values, { api }) {
    const input = { groupId: await groupId(api, values.Identity), emails: values.Member };
    const data = await api.request(AddMembers, { input });
    return one(groupRow(expectType(data.addApproverGroupMembers, "ApproverGroup")));
  },
});

export const removeGroupMember = cmdlet({
  name: "Remove-ElevatedAccessApproverGroupMember",
  synopsis: "Removes members from an approver group (admins)",
  examples: [
    "Remove-ElevatedAccessApproverGroupMember -Identity 'mbmanagers@fabrikam.com' -Member approver2@fabrikam.com",
  ],
  parameters: memberParameters,
  view: groupView,
  async run(values, { api }) {
    const input = { groupId: await groupId(api, values.Identity), emails: values.Member };
    const data = await api.request(RemoveMembers, { input });
    return one(groupRow(expectType(data.removeApproverGroupMembers, "ApproverGroup")));
  },
});
