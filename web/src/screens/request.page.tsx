import {
  Alert,
  Anchor,
  Button,
  Card,
  Group,
  Loader,
  NumberInput,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { type ReactNode, useState } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQuery } from "urql";
import { applyApiError } from "../app/form-errors.ts";
import { formatDateTime, policyTypeLabels, StatusBadge, scopeLabels, timeLeft, useNow } from "../app/format.tsx";
import { Page } from "../app/page.tsx";
import { ErrorAlert, ScrollTable } from "../app/ui.tsx";
import { useViewer } from "../app/viewer.tsx";
import { useAuth, useSession } from "../auth/auth-provider.tsx";
import type { AccessRequestPageQuery } from "../gql/graphql.ts";
import { graphql } from "../gql/index.ts";
import { type Outcome, outcome } from "../graphql/results.ts";

const AccessRequestPage = graphql(`
  query AccessRequestPage($id: ID!, $withApprovers: Boolean!) {
    accessRequest(id: $id) {
      id
      identity
      type
      scope
      target
      reason
      durationHours
      ticket
      startsAt
      status
      createdAt
      expiresAt
      decidedAt
      approvalType
      requiredApprovals
      stage
      stageCount
      requireMfa
      awaitsMyDecision
      requester {
        id
        displayName
        email
      }
      approverGroup {
        id
        name
        email
        members @include(if: $withApprovers) {
          id
        }
      }
      decisions {
        approver {
          id
          displayName
        }
        approved
        comment
        channel
        stage
        authenticationMethods
        decidedAt
        durationHours
      }
      extendsAuthorization {
        id
        endsAt
        request {
          id
          identity
        }
      }
      authorization {
        id
        status
        startsAt
        endsAt
        endedAt
        endComment
        revokedAt
        revocationComment
        revokedBy {
          displayName
        }
      }
    }
  }
`);

const ApproveRequest = graphql(`
  mutation ApproveRequest($input: DecideAccessRequestInput!) {
    approveAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        id
        status
      }
      ...MutationError
    }
  }
`);

const DenyRequest = graphql(`
  mutation DenyRequest($input: DecideAccessRequestInput!) {
    denyAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        id
        status
      }
      ...MutationError
    }
  }
`);

const CancelRequest = graphql(`
  mutation CancelRequest($input: CancelAccessRequestInput!) {
    cancelAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        id
        status
      }
      ...MutationError
    }
  }
`);

const RevokeAuthorization = graphql(`
  mutation RevokeAuthorization($input: RevokeAccessAuthorizationInput!) {
    revokeAccessAuthorization(input: $input) {
      __typename
      ... on AccessAuthorization {
        id
        status
        request {
          id
        }
      }
      ...MutationError
    }
  }
`);

function Detail({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="sm" fw={600} component="dt">
        {label}
      </Text>
      <Text component="dd" m={0}>
        {children}
      </Text>
    </div>
  );
}

/**
 * The buttons of an action, with a comment when `label` names one and a number of hours
 * when `hours` asks for one; API errors show beside the field they name, or above.
 */
function ActionForm({
  label,
  hours,
  actions,
  onStepUp,
}: {
  label?: string;
  hours?: { label: string; description: string; max: number };
  actions: {
    name: string;
    color?: string;
    variant?: string;
    run(comment: string, hours: number | null): Promise<Outcome<unknown>>;
  }[];
  /** Offered when the API asks for a sign-in with multi-factor authentication (STEP_UP_REQUIRED). */
  onStepUp?: () => Promise<void>;
}) {
  // `durationHours` as the API names it, so its field errors land on the field.
  const form = useForm({ initialValues: { comment: "", durationHours: "" as number | string } });
  const [failure, setFailure] = useState<string | null>(null);
  const [stepUp, setStepUp] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const act = async (action: (typeof actions)[number]) => {
    setFailure(null);
    setStepUp(false);
    form.clearErrors();
    setBusy(action.name);
    const { comment, durationHours } = form.getValues();
    const result = await action.run(comment.trim(), durationHours === "" ? null : Number(durationHours));
    setBusy(null);
    if (result.error) setFailure(applyApiError(form, result.error));
    if (result.error?.code === "STEP_UP_REQUIRED") setStepUp(true);
  };
  return (
    <Stack gap="sm">
      {failure && <ErrorAlert>{failure}</ErrorAlert>}
      {stepUp && onStepUp && (
        <Group>
          <Button
            variant="default"
            onClick={async () => {
              await onStepUp();
              setStepUp(false);
              setFailure(null);
            }}
          >
            Sign in again with multi-factor authentication
          </Button>
        </Group>
      )}
      {label && <Textarea label={label} autosize minRows={2} {...form.getInputProps("comment")} />}
      {hours && (
        <NumberInput
          label={hours.label}
          description={hours.description}
          min={1}
          max={hours.max}
          // The API says what is out of range, beside the field; the form never rewrites what was typed.
          clampBehavior="none"
          allowDecimal={false}
          maw={320}
          {...form.getInputProps("durationHours")}
        />
      )}
      <Group>
        {actions.map((action) => (
          <Button
            key={action.name}
            color={action.color}
            variant={action.variant}
            loading={busy === action.name}
            disabled={busy !== null}
            onClick={() => act(action)}
          >
            {action.name}
          </Button>
        ))}
      </Group>
    </Stack>
  );
}

type Grant = NonNullable<NonNullable<AccessRequestPageQuery["accessRequest"]>["authorization"]>;

/** Where a grant stands, in a sentence. */
function describeGrant(grant: Grant, now: number): string {
  switch (grant.status) {
    case "SCHEDULED":
      return `Scheduled from ${formatDateTime(grant.startsAt)} to ${formatDateTime(grant.endsAt)}`;
    case "ACTIVE":
      return `From ${formatDateTime(grant.startsAt)} to ${formatDateTime(grant.endsAt)} (${timeLeft(grant.endsAt, now)})`;
    case "REVOKED":
      return `Revoked ${formatDateTime(grant.revokedAt)} by ${grant.revokedBy?.displayName ?? "an administrator"}${
        grant.revocationComment ? `: ${grant.revocationComment}` : ""
      }`;
    case "ENDED": {
      const early = grant.endedAt && new Date(grant.endedAt) < new Date(grant.endsAt);
      return early
        ? `Ended early ${formatDateTime(grant.endedAt)} by its grantee${grant.endComment ? `: ${grant.endComment}` : ""}`
        : `Ended ${formatDateTime(grant.endsAt)}`;
    }
  }
}

/** One request: its details, decisions and grant, and what the viewer may do with it. */
export function RequestPage() {
  const { id = "" } = useParams();
  const { me, isAdmin, readsApprovals } = useViewer();
  const { auth, setSession } = useAuth();
  const session = useSession();
  const [{ data, error, fetching }] = useQuery({
    query: AccessRequestPage,
    variables: { id, withApprovers: readsApprovals },
  });
  const [, approve] = useMutation(ApproveRequest);
  const [, deny] = useMutation(DenyRequest);
  const [, cancel] = useMutation(CancelRequest);
  const [, revoke] = useMutation(RevokeAuthorization);
  const now = useNow();

  if (error)
    return (
      <Page title="Access request">
        <ErrorAlert>{error.message}</ErrorAlert>
      </Page>
    );
  if (fetching && !data) return <Loader aria-label="Loading the request" />;
  const request = data?.accessRequest;
  if (!request)
    return (
      <Page title="Access request">
        <Alert color="yellow">No such request, or it is not yours to see.</Alert>
      </Page>
    );

  const isMember = request.approverGroup.members?.some((member) => member.id === me.id) ?? false;
  const isRequester = request.requester.id === me.id;
  // The API's own rule (current stage's group, or the escalation group once escalated).
  const canDecide = request.awaitsMyDecision;
  const grant = request.authorization;
  const canRevoke = (grant?.status === "ACTIVE" || grant?.status === "SCHEDULED") && (isAdmin || isMember);
  const requestId = request.id;
  const extension = request.extendsAuthorization;
  // The grant takes the fewest hours any approval gave (the API's rule); shown when fewer than asked.
  const grantedHours = Math.min(
    request.durationHours,
    ...request.decisions.map((decision) => (decision.approved && decision.durationHours) || request.durationHours),
  );

  return (
    <Page title={`Request for ${request.target}`}>
      <Group gap="sm">
        <Text fw={600}>Status:</Text>
        <StatusBadge status={request.status} />
        {grant && <StatusBadge status={grant.status} />}
      </Group>
      <Card withBorder>
        <SimpleGrid cols={{ base: 1, sm: 2 }} component="dl" m={0} spacing="sm">
          <Detail label="Requester">
            {request.requester.displayName} ({request.requester.email})
          </Detail>
          <Detail label="Request type">{policyTypeLabels[request.type]}</Detail>
          <Detail label="Request scope">{scopeLabels[request.scope]}</Detail>
          <Detail label={extension ? "Extension (hours)" : "Duration (hours)"}>{request.durationHours}</Detail>
          {grantedHours < request.durationHours && (
            <Detail label="Granted (hours)">
              {grantedHours} of the {request.durationHours} asked for
            </Detail>
          )}
          {extension ? (
            <Detail label="Extends">
              <Anchor component={Link} to={`/requests/${extension.request.identity}`}>
                The access granted by request {extension.request.identity}
              </Anchor>
              , now until {formatDateTime(extension.endsAt)}
            </Detail>
          ) : (
            <Detail label="Starts">{request.startsAt ? formatDateTime(request.startsAt) : "When approved"}</Detail>
          )}
          {request.ticket && <Detail label="Ticket">{request.ticket}</Detail>}
          <Detail label="Comments">{request.reason}</Detail>
          <Detail label="Approval">
            {request.approvalType === "AUTO"
              ? "Automatic"
              : `${request.stageCount > 1 ? `Stage ${request.stage} of ${request.stageCount}: ` : ""}${request.requiredApprovals} of ${request.approverGroup.name} (${request.approverGroup.email})`}
            {request.requireMfa && " · approvers sign in with multi-factor authentication"}
          </Detail>
          <Detail label="Requested">{formatDateTime(request.createdAt)}</Detail>
          <Detail label={request.status === "PENDING" ? "Expires" : "Decided"}>
            {formatDateTime(request.status === "PENDING" ? request.expiresAt : request.decidedAt)}
          </Detail>
          <Detail label="Request ID">{request.identity}</Detail>
        </SimpleGrid>
      </Card>

      {grant && (
        <Card withBorder>
          <Title order={2} size="h4" mb="xs">
            Access
          </Title>
          <Text>{describeGrant(grant, now)}</Text>
        </Card>
      )}

      <section aria-labelledby="decisions">
        <Title order={2} size="h4" id="decisions" mb="xs">
          Decisions
        </Title>
        {request.decisions.length === 0 ? (
          <Text>No decision yet.</Text>
        ) : (
          <ScrollTable label="Decisions" minWidth={480}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Approver</Table.Th>
                  <Table.Th>Decision</Table.Th>
                  <Table.Th>Comment</Table.Th>
                  <Table.Th>When</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {request.decisions.map((decision) => (
                  <Table.Tr key={`${decision.approver.id}-${decision.decidedAt}`}>
                    <Table.Td>{decision.approver.displayName}</Table.Td>
                    <Table.Td>
                      {decision.approved ? "Approved" : "Denied"}
                      {decision.durationHours && ` for ${decision.durationHours} h`}
                      {decision.channel !== "API" && ` (${decision.channel.toLowerCase()})`}
                      {request.stageCount > 1 && `, stage ${decision.stage}`}
                      {decision.authenticationMethods.includes("mfa") && ", with MFA"}
                    </Table.Td>
                    <Table.Td>{decision.comment}</Table.Td>
                    <Table.Td>{formatDateTime(decision.decidedAt)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
      </section>

      {canDecide && (
        <Card withBorder component="section" aria-label="Decide">
          <ActionForm
            label="Comment"
            hours={{
              label: "Hours to grant",
              description: `Approvals only: fewer than the ${request.durationHours} asked for (1 to ${request.durationHours}); empty grants them all`,
              max: request.durationHours,
            }}
            onStepUp={async () => {
              const stepped = await auth.stepUp(location.pathname);
              if (!stepped) return;
              session.close();
              setSession(stepped);
            }}
            actions={[
              {
                name: "Approve",
                color: "teal.9",
                run: async (comment, durationHours) =>
                  outcome(
                    await approve({ input: { requestId, comment: comment || null, durationHours } }),
                    "AccessRequest",
                  ),
              },
              {
                name: "Deny",
                color: "red.9",
                run: async (comment) =>
                  outcome(await deny({ input: { requestId, comment: comment || null } }), "AccessRequest"),
              },
            ]}
          />
        </Card>
      )}
      {canRevoke && (
        <Card withBorder component="section" aria-label="Revoke">
          <ActionForm
            label="Revocation comment"
            actions={[
              {
                name: "Revoke",
                color: "red.9",
                run: async (comment) =>
                  outcome(await revoke({ input: { requestId, comment: comment || null } }), "AccessAuthorization"),
              },
            ]}
          />
        </Card>
      )}
      {isRequester && request.status === "PENDING" && (
        <ActionForm
          actions={[
            {
              name: "Cancel request",
              variant: "default",
              run: async () => outcome(await cancel({ input: { requestId } }), "AccessRequest"),
            },
          ]}
        />
      )}
    </Page>
  );
}
