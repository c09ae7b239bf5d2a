import { Badge, Button, Card, CloseButton, Group, Loader, Stack, TagsInput, Text, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { Link } from "react-router";
import { useMutation, useQuery } from "urql";
import { applyApiError } from "../app/form-errors.ts";
import { Page } from "../app/page.tsx";
import { ErrorAlert } from "../app/ui.tsx";
import { useViewer } from "../app/viewer.tsx";
import type { ApproverGroupsQuery } from "../gql/graphql.ts";
import { graphql } from "../gql/index.ts";
import { outcome } from "../graphql/results.ts";

const ApproverGroups = graphql(`
  query ApproverGroups($withMembers: Boolean!) {
    approverGroups(first: 100) {
      totalCount
      edges {
        node {
          id
          name
          email
          description
          members @include(if: $withMembers) {
            id
            email
            displayName
            kind
          }
        }
      }
    }
  }
`);

const AddMembers = graphql(`
  mutation AddMembers($input: ChangeApproverGroupMembersInput!) {
    addApproverGroupMembers(input: $input) {
      __typename
      ... on ApproverGroup {
        id
      }
      ...MutationError
    }
  }
`);

const RemoveMembers = graphql(`
  mutation RemoveMembers($input: ChangeApproverGroupMembersInput!) {
    removeApproverGroupMembers(input: $input) {
      __typename
      ... on ApproverGroup {
        id
      }
      ...MutationError
    }
  }
`);

const groupContext = { additionalTypenames: ["ApproverGroup"] };

type ApproverGroup = ApproverGroupsQuery["approverGroups"]["edges"][number]["node"];

function GroupCard({ group, editable }: { group: ApproverGroup; editable: boolean }) {
  const [, addMembers] = useMutation(AddMembers);
  const [, removeMembers] = useMutation(RemoveMembers);
  const [failure, setFailure] = useState<string | null>(null);
  const form = useForm({ initialValues: { emails: [] as string[] } });
  const add = form.onSubmit(async ({ emails }) => {
    setFailure(null);
    const result = outcome(await addMembers({ input: { groupId: group.id, emails } }), "ApproverGroup");
    if (result.error) setFailure(applyApiError(form, result.error));
    else form.reset();
  });
  const remove = async (email: string) => {
    setFailure(null);
    const result = outcome(await removeMembers({ input: { groupId: group.id, emails: [email] } }), "ApproverGroup");
    if (result.error) setFailure(result.error.message);
  };
  const headingId = `group-${group.id}`;
  return (
    <Card withBorder component="section" aria-labelledby={headingId}>
      <Stack gap="xs">
        <Title order={2} size="h4" id={headingId}>
          {group.name}
        </Title>
        <Text size="sm">{group.email}</Text>
        {group.description && <Text size="sm">{group.description}</Text>}
        {failure && <ErrorAlert>{failure}</ErrorAlert>}
        {group.members && (
          <Group
            gap="xs"
            component="ul"
            aria-label={`Members of ${group.name}`}
            p={0}
            m={0}
            style={{ listStyle: "none" }}
          >
            {group.members.length === 0 && <Text size="sm">No members.</Text>}
            {group.members.map((member) => (
              <li key={member.id}>
                <Badge
                  size="lg"
                  variant="outline"
                  color="gray.8"
                  tt="none"
                  rightSection={
                    editable && (
                      <CloseButton
                        size="xs"
                        aria-label={`Remove ${member.email} from ${group.name}`}
                        onClick={() => remove(member.email)}
                      />
                    )
                  }
                >
                  {member.displayName} ({member.email}){member.kind !== "MEMBER" && `, ${member.kind.toLowerCase()}`}
                </Badge>
              </li>
            ))}
          </Group>
        )}
        {editable && (
          <form onSubmit={add} noValidate>
            <Group align="flex-end">
              <TagsInput
                label="Add members"
                placeholder="Email, then Enter"
                style={{ flex: 1, minWidth: 200 }}
                {...form.getInputProps("emails")}
              />
              <Button type="submit" variant="default" disabled={form.getValues().emails.length === 0}>
                Add
              </Button>
            </Group>
          </form>
        )}
      </Stack>
    </Card>
  );
}

/** Approver groups and their members (admins change them). */
export function GroupsPage() {
  const { isAdmin, readsApprovals } = useViewer();
  const [{ data, error, fetching }] = useQuery({
    query: ApproverGroups,
    variables: { withMembers: readsApprovals },
    context: groupContext,
  });
  return (
    <Page
      title="Approver groups"
      actions={
        isAdmin && (
          <Button component={Link} to="/groups/new">
            Create approver group
          </Button>
        )
      }
    >
      {error && <ErrorAlert>{error.message}</ErrorAlert>}
      {fetching && !data && <Loader aria-label="Loading approver groups" />}
      {data?.approverGroups.edges.map(({ node }) => (
        <GroupCard key={node.id} group={node} editable={isAdmin} />
      ))}
    </Page>
  );
}
