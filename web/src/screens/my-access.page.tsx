import { Anchor, Loader, Table, Text, Title } from "@mantine/core";
import { Link } from "react-router";
import { useQuery } from "urql";
import { formatDateTime, timeLeft, useNow } from "../app/format.tsx";
import { Page } from "../app/page.tsx";
import { ErrorAlert, ScrollTable } from "../app/ui.tsx";
import { useViewer } from "../app/viewer.tsx";
import type { ActiveAuthorizationsQuery } from "../gql/graphql.ts";
import { graphql } from "../gql/index.ts";

const ActiveAuthorizations = graphql(`
  query ActiveAuthorizations {
    accessAuthorizations(status: [ACTIVE], first: 100) {
      edges {
        node {
          id
          target
          startsAt
          endsAt
          user {
            id
            displayName
          }
          request {
            id
            identity
          }
        }
      }
    }
  }
`);

const grantContext = { additionalTypenames: ["AccessAuthorization"] };

type Grant = ActiveAuthorizationsQuery["accessAuthorizations"]["edges"][number]["node"];

function GrantTable({ grants, withUser, caption }: { grants: Grant[]; withUser: boolean; caption: string }) {
  const now = useNow();
  if (grants.length === 0) return <Text>None.</Text>;
  return (
    <ScrollTable label={caption} minWidth={520}>
      <Table striped>
        <Table.Caption>{caption}</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Access to</Table.Th>
            {withUser && <Table.Th>User</Table.Th>}
            <Table.Th>Since</Table.Th>
            <Table.Th>Until</Table.Th>
            <Table.Th>Time left</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {grants.map((grant) => (
            <Table.Tr key={grant.id}>
              <Table.Td>
                <Anchor component={Link} to={`/requests/${grant.request.identity}`}>
                  {grant.target}
                </Anchor>
              </Table.Td>
              {withUser && <Table.Td>{grant.user.displayName}</Table.Td>}
              <Table.Td>{formatDateTime(grant.startsAt)}</Table.Td>
              <Table.Td>{formatDateTime(grant.endsAt)}</Table.Td>
              <Table.Td>{timeLeft(grant.endsAt, now)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}

/**
 * "My access": the caller's active grants with the time they have left; for those who
 * may see more (approvers, admins, auditors) the others' active grants too.
 */
export function MyAccessPage() {
  const { me } = useViewer();
  const [{ data, error, fetching }] = useQuery({ query: ActiveAuthorizations, context: grantContext });
  const grants = data?.accessAuthorizations.edges.map(({ node }) => node) ?? [];
  const mine = grants.filter((grant) => grant.user.id === me.id);
  const others = grants.filter((grant) => grant.user.id !== me.id);
  return (
    <Page title="My access">
      {error && <ErrorAlert>{error.message}</ErrorAlert>}
      {fetching && !data && <Loader aria-label="Loading access" />}
      {data && (
        <>
          <GrantTable grants={mine} withUser={false} caption="Your active access" />
          {others.length > 0 && (
            <>
              <Title order={2} size="h4">
                Others' active access
              </Title>
              <GrantTable grants={others} withUser caption="Active access you may see and revoke" />
            </>
          )}
        </>
      )}
    </Page>
  );
}
