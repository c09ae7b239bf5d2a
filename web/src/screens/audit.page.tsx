import { Alert, Code, Loader, Table } from "@mantine/core";
import { useQuery } from "urql";
import { formatDateTime } from "../app/format.tsx";
import { Page } from "../app/page.tsx";
import { Pager, usePager } from "../app/pager.tsx";
import { ErrorAlert, ScrollTable } from "../app/ui.tsx";
import { graphql } from "../gql/index.ts";

const AuditLog = graphql(`
  query AuditLog($first: Int!, $after: String) {
    verifyAuditLog {
      ok
      checked
      firstBrokenSequence
    }
    auditEvents(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          sequence
          at
          action
          actor {
            id
            displayName
          }
          details
          hash
        }
      }
    }
  }
`);

const auditContext = { additionalTypenames: ["AuditEvent"] };

/** The hash-chained audit log, oldest first as the chain runs, and whether it verifies. */
export function AuditPage() {
  const pager = usePager();
  const [{ data, error, fetching }] = useQuery({
    query: AuditLog,
    variables: { first: 100, after: pager.after },
    context: auditContext,
  });
  const verification = data?.verifyAuditLog;
  return (
    <Page title="Audit log">
      {error && <ErrorAlert>{error.message}</ErrorAlert>}
      {fetching && !data && <Loader aria-label="Loading the audit log" />}
      {verification &&
        (verification.ok ? (
          <Alert variant="filled" color="teal.9" title="Chain verified" role="status">
            All {verification.checked} events verify: none was changed or removed.
          </Alert>
        ) : (
          <ErrorAlert title="Chain broken">
            The chain breaks at event {verification.firstBrokenSequence}: it was changed or removed after it was
            written.
          </ErrorAlert>
        ))}
      {data && (
        <>
          <ScrollTable label="Audit events" minWidth={720}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>#</Table.Th>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>By</Table.Th>
                  <Table.Th>Details</Table.Th>
                  <Table.Th>Hash</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.auditEvents.edges.map(({ node }) => (
                  <Table.Tr key={node.id}>
                    <Table.Td>{node.sequence}</Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatDateTime(node.at)}</Table.Td>
                    <Table.Td>{node.action}</Table.Td>
                    <Table.Td>{node.actor?.displayName ?? "system"}</Table.Td>
                    <Table.Td>
                      <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }}>
                        {JSON.stringify(node.details)}
                      </Code>
                    </Table.Td>
                    <Table.Td>
                      <Code title={node.hash}>{node.hash.slice(0, 12)}</Code>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
          <Pager pager={pager} pageInfo={data.auditEvents.pageInfo} />
        </>
      )}
    </Page>
  );
}
