import { Anchor, Button, Group, Loader, SegmentedControl, Select, Switch, Table, Text } from "@mantine/core";
import { Link, useSearchParams } from "react-router";
import { useQuery } from "urql";
import { formatDateTime, policyTypeLabels, StatusBadge, statusLabels } from "../app/format.tsx";
import { Page } from "../app/page.tsx";
import { Pager, usePager } from "../app/pager.tsx";
import { ErrorAlert, ScrollTable, usePhone } from "../app/ui.tsx";
import { useViewer } from "../app/viewer.tsx";
import type { AccessRequestStatus } from "../gql/graphql.ts";
import { graphql } from "../gql/index.ts";

const AccessRequests = graphql(`
  query AccessRequests($filter: AccessRequestFilter, $first: Int!, $after: String) {
    accessRequests(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          identity
          kind
          type
          target
          status
          durationHours
          createdAt
          requester {
            id
            displayName
          }
        }
      }
    }
  }
`);

const statuses: AccessRequestStatus[] = ["PENDING", "APPROVED", "DENIED", "EXPIRED", "CANCELED"];
/** The Office 365 Admin Center's fourth filter: vendors' Customer Lockbox requests, in any state. */
const lockbox = "LOCKBOX";
const statusOptions = [
  ...statuses.map((value) => ({ value, label: statusLabels[value] })),
  { value: lockbox, label: "Customer Lockbox" },
  { value: "ALL", label: "All" },
];
// Lists start empty too: refetch them when a request appears.
const listContext = { additionalTypenames: ["AccessRequest"] };

/** "Manage access policies and requests": the request list, filtered by status. */
export function RequestsPage() {
  const { readsApprovals } = useViewer();
  const [params, setParams] = useSearchParams();
  const phone = usePhone();
  const pager = usePager();
  const status = (params.get("status") ?? "PENDING") as AccessRequestStatus | "ALL" | typeof lockbox;
  const awaitingMe = params.get("awaiting") === "me";
  const filter = {
    ...(status === "ALL" ? {} : status === lockbox ? { kind: "CUSTOMER_LOCKBOX" as const } : { status: [status] }),
    ...(awaitingMe ? { awaitingMyDecision: true } : {}),
  };
  const [{ data, error, fetching }] = useQuery({
    query: AccessRequests,
    variables: { filter, first: 25, after: pager.after },
    context: listContext,
  });
  const change = (key: string, value: string | null) => {
    pager.reset();
    setParams((current) => {
      const next = new URLSearchParams(current);
      if (value === null) next.delete(key);
      else next.set(key, value);
      return next;
    });
  };
  const connection = data?.accessRequests;

  return (
    <Page
      title="Access requests"
      actions={
        <>
          <Button component={Link} to="/requests/new">
            New request
          </Button>
          {readsApprovals && (
            <Button component={Link} to="/policies" variant="default">
              Configure policies
            </Button>
          )}
        </>
      }
    >
      <Group justify="space-between">
        {/* Seven segments do not fit a phone: there the same choice is a select. */}
        {phone ? (
          <Select
            label="Status"
            value={status}
            allowDeselect={false}
            onChange={(value) => change("status", value === "PENDING" ? null : value)}
            data={statusOptions}
          />
        ) : (
          <SegmentedControl
            aria-label="Status"
            value={status}
            onChange={(value) => change("status", value === "PENDING" ? null : value)}
            data={statusOptions}
          />
        )}
        {readsApprovals && (
          <Switch
            label="Awaiting my decision"
            checked={awaitingMe}
            onChange={(event) => change("awaiting", event.currentTarget.checked ? "me" : null)}
          />
        )}
      </Group>
      {error && <ErrorAlert>{error.message}</ErrorAlert>}
      {fetching && !data && <Loader aria-label="Loading requests" />}
      {connection && (
        <>
          <Text size="sm" aria-live="polite">
            {connection.totalCount} {connection.totalCount === 1 ? "request" : "requests"}. Select a listed request to
            see its details.
          </Text>
          <ScrollTable label="Access requests" minWidth={640}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Request for</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Requester</Table.Th>
                  <Table.Th>Duration</Table.Th>
                  <Table.Th>Requested</Table.Th>
                  <Table.Th>Status</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {connection.edges.map(({ node }) => (
                  <Table.Tr key={node.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/requests/${node.identity}`}>
                        {node.target}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      {policyTypeLabels[node.type]}
                      {node.kind === "CUSTOMER_LOCKBOX" && " (Customer Lockbox)"}
                    </Table.Td>
                    <Table.Td>{node.requester.displayName}</Table.Td>
                    <Table.Td>{node.durationHours} h</Table.Td>
                    <Table.Td>{formatDateTime(node.createdAt)}</Table.Td>
                    <Table.Td>
                      <StatusBadge status={node.status} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
          <Pager pager={pager} pageInfo={connection.pageInfo} />
        </>
      )}
    </Page>
  );
}
