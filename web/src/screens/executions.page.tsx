import { Badge, Loader, Table } from "@mantine/core";
import { useQuery } from "urql";
import { formatDateTime } from "../app/format.tsx";
import { Page } from "../app/page.tsx";
import { Pager, usePager } from "../app/pager.tsx";
import { ErrorAlert, ScrollTable } from "../app/ui.tsx";
import { graphql } from "../gql/index.ts";

const TaskExecutions = graphql(`
  query TaskExecutions($first: Int!, $after: String) {
    taskExecutions(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          task
          resolvedTask
          allowed
          reason
          at
          user {
            id
            displayName
          }
          caller {
            id
            displayName
          }
        }
      }
    }
  }
`);

const executionContext = { additionalTypenames: ["TaskExecution"] };

/** Every authorizeTask call the viewer may see, allowed or not. */
export function ExecutionsPage() {
  const pager = usePager();
  const [{ data, error, fetching }] = useQuery({
    query: TaskExecutions,
    variables: { first: 50, after: pager.after },
    context: executionContext,
  });
  return (
    <Page title="Task executions">
      {error && <ErrorAlert>{error.message}</ErrorAlert>}
      {fetching && !data && <Loader aria-label="Loading task executions" />}
      {data && (
        <>
          <ScrollTable label="Task executions" minWidth={640}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Task</Table.Th>
                  <Table.Th>User</Table.Th>
                  <Table.Th>Asked by</Table.Th>
                  <Table.Th>Result</Table.Th>
                  <Table.Th>Reason</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.taskExecutions.edges.map(({ node }) => (
                  <Table.Tr key={node.id}>
                    <Table.Td>{formatDateTime(node.at)}</Table.Td>
                    <Table.Td>{node.resolvedTask ?? node.task}</Table.Td>
                    <Table.Td>{node.user.displayName}</Table.Td>
                    <Table.Td>{node.caller.displayName}</Table.Td>
                    <Table.Td>
                      <Badge color={node.allowed ? "teal.9" : "red.9"} autoContrast>
                        {node.allowed ? "Allowed" : "Denied"}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{node.reason}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
          {data.taskExecutions.edges.length === 0 && "No task executions yet."}
          <Pager pager={pager} pageInfo={data.taskExecutions.pageInfo} />
        </>
      )}
    </Page>
  );
}
