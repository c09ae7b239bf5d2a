import { Alert, Button, Group, Loader, Modal, Stack, Table, Text } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router";
import { useMutation, useQuery } from "urql";
import { formatDateTime, policyTypeLabels, scopeLabels } from "../app/format.tsx";
import { Page } from "../app/page.tsx";
import { ErrorAlert, ScrollTable } from "../app/ui.tsx";
import { useViewer } from "../app/viewer.tsx";
import type { ApprovalPoliciesQuery } from "../gql/graphql.ts";
import { graphql } from "../gql/index.ts";
import { outcome } from "../graphql/results.ts";

const ApprovalPolicies = graphql(`
  query ApprovalPolicies {
    approvalPolicies(first: 100) {
      totalCount
      edges {
        node {
          id
          identity
          type
          scope
          target
          approvalType
          requiredApprovals
          maxDurationHours
          requireMfa
          stages {
            position
            requiredApprovals
            approverGroup {
              name
            }
          }
          autoApproveWhen {
            requesterInGroup {
              name
            }
            maxDurationHours
            ticketGiven
            window {
              days
              start
              end
            }
          }
          createdAt
          approverGroup {
            id
            name
          }
        }
      }
    }
    elevatedAccessControl {
      enabled
      maxPolicies
    }
  }
`);

const GovernedTargets = graphql(`
  query GovernedTargets {
    governedTargets {
      type
      scope
      target
      maxDurationHours
    }
  }
`);

const RemovePolicy = graphql(`
  mutation RemovePolicy($input: RemoveApprovalPolicyInput!) {
    removeApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy {
        id
      }
      ...MutationError
    }
  }
`);

const policyContext = { additionalTypenames: ["ApprovalPolicy"] };

type Policy = ApprovalPoliciesQuery["approvalPolicies"]["edges"][number]["node"];

function RemovePolicyDialog({ policy, onClose }: { policy: Policy | null; onClose(): void }) {
  const [{ fetching }, removePolicy] = useMutation(RemovePolicy);
  const [failure, setFailure] = useState<string | null>(null);
  const close = () => {
    setFailure(null);
    onClose();
  };
  return (
    <Modal opened={policy !== null} onClose={close} title="Remove Policy" closeButtonProps={{ "aria-label": "Close" }}>
      {policy && (
        <Stack>
          <Text>
            Remove the policy for <strong>{policy.target}</strong>? Its pending requests are canceled; access already
            granted under it runs to its end unless revoked.
          </Text>
          {failure && <ErrorAlert>{failure}</ErrorAlert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Keep it
            </Button>
            <Button
              color="red.9"
              loading={fetching}
              onClick={async () => {
                const result = outcome(await removePolicy({ input: { id: policy.id } }), "ApprovalPolicy");
                if (result.error) setFailure(result.error.message);
                else close();
              }}
            >
              Remove Policy
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

function PolicyTable() {
  const { isAdmin } = useViewer();
  const [{ data, error, fetching }] = useQuery({ query: ApprovalPolicies, context: policyContext });
  const [removing, setRemoving] = useState<Policy | null>(null);
  if (error) return <ErrorAlert>{error.message}</ErrorAlert>;
  if (fetching && !data) return <Loader aria-label="Loading policies" />;
  if (!data) return null;
  const { approvalPolicies, elevatedAccessControl } = data;
  return (
    <>
      {!elevatedAccessControl.enabled && (
        <Alert color="blue">
          Privileged access is off: policies are kept but nothing is gated until it is turned on.
        </Alert>
      )}
      <Text size="sm">
        {approvalPolicies.totalCount} of at most {elevatedAccessControl.maxPolicies} policies.
      </Text>
      <ScrollTable label="Approval policies" minWidth={760}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Policy name</Table.Th>
              <Table.Th>Type</Table.Th>
              <Table.Th>Scope</Table.Th>
              <Table.Th>Approval type</Table.Th>
              <Table.Th>Approval group</Table.Th>
              <Table.Th>Approvals</Table.Th>
              <Table.Th>Max duration</Table.Th>
              <Table.Th>Created</Table.Th>
              {isAdmin && <Table.Th>Actions</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {approvalPolicies.edges.map(({ node }) => (
              <Table.Tr key={node.id}>
                <Table.Td>{node.target}</Table.Td>
                <Table.Td>{policyTypeLabels[node.type]}</Table.Td>
                <Table.Td>{scopeLabels[node.scope]}</Table.Td>
                <Table.Td>
                  {node.approvalType === "AUTO" ? "Auto" : "Manual"}
                  {node.requireMfa && " · MFA at decision"}
                  {node.autoApproveWhen && ` · auto when ${conditionsText(node.autoApproveWhen)}`}
                </Table.Td>
                <Table.Td>
                  {node.stages.map((stage) => stage.approverGroup?.name ?? "(removed)").join(", then ")}
                </Table.Td>
                <Table.Td>{node.stages.map((stage) => stage.requiredApprovals).join(", then ")}</Table.Td>
                <Table.Td>{node.maxDurationHours ? `${node.maxDurationHours} h` : "720 h"}</Table.Td>
                <Table.Td>{formatDateTime(node.createdAt)}</Table.Td>
                {isAdmin && (
                  <Table.Td>
                    <Button
                      size="xs"
                      variant="default"
                      onClick={() => setRemoving(node)}
                      aria-label={`Remove Policy ${node.target}`}
                    >
                      Remove Policy
                    </Button>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollTable>
      <RemovePolicyDialog policy={removing} onClose={() => setRemoving(null)} />
    </>
  );
}

/** What every member may see of the policies: what needs approval, and for how long one may ask. */
function GovernedTable() {
  const [{ data, error }] = useQuery({ query: GovernedTargets, context: policyContext });
  if (error) return <ErrorAlert>{error.message}</ErrorAlert>;
  if (!data) return <Loader aria-label="Loading" />;
  if (data.governedTargets.length === 0) return <Text>Nothing needs approval right now.</Text>;
  return (
    <ScrollTable label="What needs approval" minWidth={480}>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Needs approval</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th>Scope</Table.Th>
            <Table.Th>Longest request</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {data.governedTargets.map((entry) => (
            <Table.Tr key={`${entry.type}-${entry.scope}-${entry.target}`}>
              <Table.Td>{entry.target}</Table.Td>
              <Table.Td>{policyTypeLabels[entry.type]}</Table.Td>
              <Table.Td>{scopeLabels[entry.scope]}</Table.Td>
              <Table.Td>{entry.maxDurationHours ?? 720} h</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}

/** "Configure policies": the approval policies, "Add a policy" and "Remove Policy". */
export function PoliciesPage() {
  const { isAdmin, readsApprovals } = useViewer();
  return (
    <Page
      title={readsApprovals ? "Configure policies" : "What needs approval"}
      actions={
        isAdmin && (
          <Button component={Link} to="/policies/new">
            Add a policy
          </Button>
        )
      }
    >
      {readsApprovals ? <PolicyTable /> : <GovernedTable />}
    </Page>
  );
}

/** "requester in On call, at most 2 h, Mon–Fri 09:00–17:00" */
function conditionsText(conditions: {
  requesterInGroup?: { name: string } | null;
  maxDurationHours?: number | null;
  window?: { days: string[]; start: string; end: string } | null;
  ticketGiven?: boolean;
}): string {
  return [
    conditions.requesterInGroup && `requester in ${conditions.requesterInGroup.name}`,
    conditions.maxDurationHours != null && `at most ${conditions.maxDurationHours} h`,
    conditions.window && `${conditions.window.days.join(",")} ${conditions.window.start}–${conditions.window.end}`,
    conditions.ticketGiven && "with a ticket",
  ]
    .filter(Boolean)
    .join(", ");
}
