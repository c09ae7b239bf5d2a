import {
  Alert,
  Anchor,
  Button,
  Group,
  Loader,
  Modal,
  NumberInput,
  Stack,
  Table,
  Text,
  Textarea,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { Link } from "react-router";
import { useMutation, useQuery } from "urql";
import { applyApiError } from "../app/form-errors.ts";
import { formatDateTime, StatusBadge, statusLabels, timeLeft, useNow } from "../app/format.tsx";
import { Page } from "../app/page.tsx";
import { ErrorAlert, ScrollTable } from "../app/ui.tsx";
import { useViewer } from "../app/viewer.tsx";
import type { AccessRequestStatus, MyAccessQuery } from "../gql/graphql.ts";
import { graphql } from "../gql/index.ts";
import { outcome } from "../graphql/results.ts";

const MyAccess = graphql(`
  query MyAccess($email: String!) {
    accessAuthorizations(status: [SCHEDULED, ACTIVE], first: 100) {
      edges {
        node {
          id
          target
          status
          startsAt
          endsAt
          user {
            id
            displayName
          }
          request {
            id
            identity
            ticket
          }
        }
      }
    }
    pendingExtensions: accessRequests(filter: { status: [PENDING], requesterEmail: $email }, first: 100) {
      edges {
        node {
          id
          identity
          durationHours
          extendsAuthorization {
            id
          }
        }
      }
    }
  }
`);

const RequestExtension = graphql(`
  mutation RequestExtension($input: RequestAccessExtensionInput!) {
    requestAccessExtension(input: $input) {
      __typename
      ... on AccessRequest {
        id
        identity
        status
        durationHours
        extendsAuthorization {
          id
          endsAt
        }
      }
      ...MutationError
    }
  }
`);

const EndAuthorization = graphql(`
  mutation EndAuthorization($input: EndAccessAuthorizationInput!) {
    endAccessAuthorization(input: $input) {
      __typename
      ... on AccessAuthorization {
        id
        status
        endedAt
      }
      ...MutationError
    }
  }
`);

const grantContext = { additionalTypenames: ["AccessAuthorization", "AccessRequest"] };

type Grant = MyAccessQuery["accessAuthorizations"]["edges"][number]["node"];
type PendingExtension = MyAccessQuery["pendingExtensions"]["edges"][number]["node"];
type ExtensionAnswer = { identity: string; status: AccessRequestStatus; hours: number; endsAt: string };
/** What the last action did, shown above the tables. */
type Notice = { text: string; link: { to: string; label: string } };

/** Asks for more hours on an ACTIVE grant; answers what became of the extension request. */
function ExtendDialog({
  grant,
  onClose,
  onAnswer,
}: {
  grant: Grant | null;
  onClose(): void;
  onAnswer(notice: Notice): void;
}) {
  const [, requestExtension] = useMutation(RequestExtension);
  const [failure, setFailure] = useState<string | null>(null);
  const form = useForm({
    initialValues: { hours: "" as number | string, reason: "" },
    validate: {
      hours: (value) => (value === "" ? "Say how many hours to add" : null),
      reason: (value) => (value.trim() ? null : "Say why you need longer"),
    },
  });
  const close = () => {
    form.reset();
    setFailure(null);
    onClose();
  };
  const submit = form.onSubmit(async (values) => {
    if (!grant) return;
    setFailure(null);
    const result = outcome(
      await requestExtension({
        input: { authorizationId: grant.id, hours: Number(values.hours), reason: values.reason.trim() },
      }),
      "AccessRequest",
    );
    if (result.error) return setFailure(applyApiError(form, result.error));
    const request = result.ok;
    onAnswer({
      text: extensionMessage({
        identity: request.identity,
        status: request.status,
        hours: request.durationHours,
        endsAt: request.extendsAuthorization?.endsAt ?? grant.endsAt,
      }),
      link: { to: `/requests/${request.identity}`, label: "See the extension request" },
    });
    close();
  });
  return (
    <Modal opened={grant !== null} onClose={close} title="Extend access" closeButtonProps={{ "aria-label": "Close" }}>
      {grant && (
        <form onSubmit={submit} noValidate>
          <Stack>
            <Text>
              Your access to <strong>{grant.target}</strong> ends {formatDateTime(grant.endsAt)}. Its policy decides the
              extension as it decides a request; its maximum applies to the whole access.
            </Text>
            {failure && <ErrorAlert>{failure}</ErrorAlert>}
            <NumberInput label="Hours to add" min={1} allowDecimal={false} required {...form.getInputProps("hours")} />
            <Textarea
              label="Reason for the extension"
              required
              autosize
              minRows={2}
              {...form.getInputProps("reason")}
            />
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Keep as is
              </Button>
              <Button type="submit" loading={form.submitting}>
                Ask to extend
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}

/** Confirms ending one's own access before its end (or calling off access not started yet). */
function EndDialog({
  grant,
  onClose,
  onEnded,
}: {
  grant: Grant | null;
  onClose(): void;
  onEnded(notice: Notice): void;
}) {
  const [{ fetching }, endAuthorization] = useMutation(EndAuthorization);
  const [failure, setFailure] = useState<string | null>(null);
  const form = useForm({ initialValues: { reason: "" } });
  const close = () => {
    form.reset();
    setFailure(null);
    onClose();
  };
  return (
    <Modal opened={grant !== null} onClose={close} title="End access now" closeButtonProps={{ "aria-label": "Close" }}>
      {grant && (
        <Stack>
          <Text>
            {grant.status === "SCHEDULED" ? (
              <>
                Call off your access to <strong>{grant.target}</strong> scheduled from {formatDateTime(grant.startsAt)}?
              </>
            ) : (
              <>
                End your access to <strong>{grant.target}</strong> now, {timeLeft(grant.endsAt, Date.now())}?
              </>
            )}{" "}
            Getting it back takes a new request.
          </Text>
          {failure && <ErrorAlert>{failure}</ErrorAlert>}
          <Textarea
            label="Why you no longer need it"
            description="Optional; shown in the audit log"
            autosize
            minRows={2}
            {...form.getInputProps("reason")}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Keep my access
            </Button>
            <Button
              color="red.9"
              loading={fetching}
              onClick={async () => {
                const reason = form.getValues().reason.trim() || null;
                const result = outcome(
                  await endAuthorization({ input: { authorizationId: grant.id, reason } }),
                  "AccessAuthorization",
                );
                if (result.error) return setFailure(applyApiError(form, result.error));
                onEnded({
                  text: `Your access to ${grant.target} ended ${formatDateTime(result.ok.endedAt)}.`,
                  link: { to: `/requests/${grant.request.identity}`, label: "See the request" },
                });
                close();
              }}
            >
              End access
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

function GrantTable({
  grants,
  pending,
  own,
  caption,
  onExtend,
  onEnd,
}: {
  grants: Grant[];
  pending: PendingExtension[];
  own: boolean;
  caption: string;
  onExtend?(grant: Grant): void;
  onEnd?(grant: Grant): void;
}) {
  const now = useNow();
  if (grants.length === 0) return <Text>None.</Text>;
  return (
    <ScrollTable label={caption} minWidth={own ? 860 : 640}>
      <Table striped>
        <Table.Caption>{caption}</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Access to</Table.Th>
            {!own && <Table.Th>User</Table.Th>}
            <Table.Th>Status</Table.Th>
            <Table.Th>Ticket</Table.Th>
            <Table.Th>From</Table.Th>
            <Table.Th>Until</Table.Th>
            <Table.Th>Time left</Table.Th>
            {own && <Table.Th>Actions</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {grants.map((grant) => {
            const extensions = pending.filter((request) => request.extendsAuthorization?.id === grant.id);
            return (
              <Table.Tr key={grant.id}>
                <Table.Td>
                  <Anchor component={Link} to={`/requests/${grant.request.identity}`}>
                    {grant.target}
                  </Anchor>
                </Table.Td>
                {!own && <Table.Td>{grant.user.displayName}</Table.Td>}
                <Table.Td>
                  <StatusBadge status={grant.status} />
                </Table.Td>
                <Table.Td>{grant.request.ticket}</Table.Td>
                <Table.Td>{formatDateTime(grant.startsAt)}</Table.Td>
                <Table.Td>
                  {formatDateTime(grant.endsAt)}
                  {extensions.map((request) => (
                    <Text key={request.id} size="sm">
                      <Anchor component={Link} to={`/requests/${request.identity}`}>
                        {request.durationHours} more {request.durationHours === 1 ? "hour" : "hours"} asked
                      </Anchor>
                      : {statusLabels.PENDING.toLowerCase()}
                    </Text>
                  ))}
                </Table.Td>
                <Table.Td>{grant.status === "SCHEDULED" ? "Not started" : timeLeft(grant.endsAt, now)}</Table.Td>
                {own && (
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      {grant.status === "ACTIVE" && (
                        <Button
                          size="xs"
                          variant="default"
                          onClick={() => onExtend?.(grant)}
                          aria-label={`Extend ${grant.target}`}
                        >
                          Extend
                        </Button>
                      )}
                      <Button
                        size="xs"
                        color="red.9"
                        variant="outline"
                        onClick={() => onEnd?.(grant)}
                        aria-label={`End now ${grant.target}`}
                      >
                        End now
                      </Button>
                    </Group>
                  </Table.Td>
                )}
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}

/** What became of the last extension asked for, in a sentence. */
function extensionMessage(answer: ExtensionAnswer): string {
  const hours = `${answer.hours} ${answer.hours === 1 ? "hour" : "hours"}`;
  return answer.status === "APPROVED"
    ? `Extended by ${hours}: your access now ends ${formatDateTime(answer.endsAt)}.`
    : `Extension by ${hours} asked: ${statusLabels[answer.status].toLowerCase()}, waiting for the policy's approvers.`;
}

/**
 * "My access": the caller's access, active or scheduled, with the time it has left, the
 * extensions they asked for, and the actions to extend or end it; for those who may see
 * more (approvers, admins, auditors) the others' access too.
 */
export function MyAccessPage() {
  const { me } = useViewer();
  const [{ data, error, fetching }] = useQuery({
    query: MyAccess,
    variables: { email: me.email },
    context: grantContext,
  });
  const [extending, setExtending] = useState<Grant | null>(null);
  const [ending, setEnding] = useState<Grant | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const grants = data?.accessAuthorizations.edges.map(({ node }) => node) ?? [];
  const pending = data?.pendingExtensions.edges.map(({ node }) => node) ?? [];
  const mine = grants.filter((grant) => grant.user.id === me.id);
  const others = grants.filter((grant) => grant.user.id !== me.id);
  return (
    <Page title="My access">
      {error && <ErrorAlert>{error.message}</ErrorAlert>}
      {fetching && !data && <Loader aria-label="Loading access" />}
      <div role="status">
        {notice && (
          <Alert color="blue" withCloseButton closeButtonLabel="Dismiss" onClose={() => setNotice(null)}>
            {notice.text}{" "}
            {/* The alert's own text colour (a link's blue lacks contrast on its tint), underlined to read as a link. */}
            <Anchor component={Link} to={notice.link.to} c="inherit" underline="always">
              {notice.link.label}
            </Anchor>
          </Alert>
        )}
      </div>
      {data && (
        <>
          <GrantTable
            grants={mine}
            pending={pending}
            own
            caption="Your access, active or scheduled"
            onExtend={setExtending}
            onEnd={setEnding}
          />
          {others.length > 0 && (
            <>
              <Title order={2} size="h4">
                Others' access
              </Title>
              <GrantTable
                grants={others}
                pending={[]}
                own={false}
                caption="Active or scheduled access you may see and revoke"
              />
            </>
          )}
        </>
      )}
      <ExtendDialog grant={extending} onClose={() => setExtending(null)} onAnswer={setNotice} />
      <EndDialog grant={ending} onClose={() => setEnding(null)} onEnded={setNotice} />
    </Page>
  );
}
