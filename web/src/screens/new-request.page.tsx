import { Alert, Button, Group, NumberInput, Paper, Select, Stack, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { useNavigate } from "react-router";
import { useMutation, useQuery } from "urql";
import { useCatalogOptions } from "../app/catalog.ts";
import { applyApiError } from "../app/form-errors.ts";
import { policyTypeLabels, scopeLabels } from "../app/format.tsx";
import { LabelledSegments } from "../app/labelled-segments.tsx";
import { Page } from "../app/page.tsx";
import { ErrorAlert } from "../app/ui.tsx";
import type { PolicyScope, PolicyType } from "../gql/graphql.ts";
import { graphql } from "../gql/index.ts";
import { outcome } from "../graphql/results.ts";

const RequestOptions = graphql(`
  query RequestOptions {
    governedTargets {
      type
      scope
      target
      maxDurationHours
      ticketRequired
      ticketPattern
    }
    elevatedAccessControl {
      enabled
      defaultDurationHours
      requestLifetimeHours
    }
  }
`);

const CreateRequest = graphql(`
  mutation CreateRequest($input: CreateAccessRequestInput!) {
    createAccessRequest(input: $input) {
      __typename
      ... on AccessRequest {
        id
        identity
        status
      }
      ...MutationError
    }
  }
`);

const types = Object.entries(policyTypeLabels).map(([value, label]) => ({ value, label }));
const scopes = Object.entries(scopeLabels).map(([value, label]) => ({ value, label }));

/** What the policy asks of a ticket reference, in words. */
function ticketHint(governed: { ticketRequired: boolean; ticketPattern?: string | null } | undefined): string {
  const pattern = governed?.ticketPattern ? `, matching ${governed.ticketPattern}` : "";
  return governed?.ticketRequired
    ? `Required by the policy${pattern}: the change or incident ticket this is for`
    : `Optional${pattern}: the change or incident ticket this is for`;
}

/** "New request": what to run, from when, for how long and why, with the ticket it is for. */
export function NewRequestPage() {
  const navigate = useNavigate();
  const [{ data }] = useQuery({ query: RequestOptions });
  const [, createRequest] = useMutation(CreateRequest);
  const [failure, setFailure] = useState<string | null>(null);
  const form = useForm({
    initialValues: {
      type: "TASK" as PolicyType,
      scope: "EXCHANGE" as PolicyScope,
      target: "",
      durationHours: "" as number | string,
      // A datetime-local value (the browser's time zone), empty for "at approval".
      startsAt: "",
      ticket: "",
      reason: "",
    },
    validate: {
      target: (value) => (value ? null : "Choose what the request is for"),
      startsAt: (value) => (value === "" || !Number.isNaN(new Date(value).getTime()) ? null : "Enter a date and time"),
      reason: (value) => (value.trim() ? null : "Say why you need the access"),
    },
  });
  const { type, scope, target } = form.getValues();
  const catalog = useCatalogOptions(type, scope);
  const governed = data?.governedTargets.find(
    (entry) => entry.type === type && entry.scope === scope && entry.target === target,
  );
  const defaultHours = data?.elevatedAccessControl.defaultDurationHours;
  const lifetimeHours = data?.elevatedAccessControl.requestLifetimeHours;

  const submit = form.onSubmit(async (values) => {
    setFailure(null);
    const result = outcome(
      await createRequest({
        input: {
          type: values.type,
          scope: values.scope,
          target: values.target,
          reason: values.reason.trim(),
          durationHours: values.durationHours === "" ? null : Number(values.durationHours),
          startsAt: values.startsAt === "" ? null : new Date(values.startsAt).toISOString(),
          ticket: values.ticket.trim() || null,
        },
      }),
      "AccessRequest",
    );
    if (result.ok) return navigate(`/requests/${result.ok.identity}`);
    // "No policy covers it" is about what the request is for.
    if (result.error.code === "NO_POLICY") result.error.field = "target";
    setFailure(applyApiError(form, result.error));
  });

  return (
    <Page title="New request">
      {data && !data.elevatedAccessControl.enabled && (
        <Alert color="blue">Privileged access is off in your organization: nothing needs a request right now.</Alert>
      )}
      <Paper withBorder p="md" component="form" onSubmit={submit} noValidate maw={640}>
        <Stack>
          {failure && <ErrorAlert>{failure}</ErrorAlert>}
          <LabelledSegments
            label="Request type"
            id="request-type"
            data={types}
            {...form.getInputProps("type")}
            onChange={(value) => {
              form.setFieldValue("type", value as PolicyType);
              form.setFieldValue("target", "");
            }}
          />
          <Select
            label="Request scope"
            data={scopes}
            allowDeselect={false}
            {...form.getInputProps("scope")}
            onChange={(value) => {
              form.setFieldValue("scope", (value ?? "EXCHANGE") as PolicyScope);
              form.setFieldValue("target", "");
            }}
          />
          <Select
            label="Request for"
            placeholder="Search the catalog"
            searchable
            nothingFoundMessage="Nothing in the catalog matches"
            data={catalog.options}
            required
            {...form.getInputProps("target")}
            description={
              governed
                ? `Needs approval; at most ${governed.maxDurationHours ?? 720} hours`
                : "Tasks, roles and role groups of your organization's catalog"
            }
          />
          <NumberInput
            label="Duration (hours)"
            min={1}
            allowDecimal={false}
            description={defaultHours ? `Default: ${defaultHours} hours` : undefined}
            {...form.getInputProps("durationHours")}
          />
          <TextInput
            type="datetime-local"
            label="Start at"
            description={`Optional, at most 14 days ahead; empty: as soon as it is approved. Undecided, the request still expires ${lifetimeHours ?? 24} hours after you file it.`}
            {...form.getInputProps("startsAt")}
          />
          <TextInput
            label="Ticket"
            required={governed?.ticketRequired ?? false}
            description={ticketHint(governed)}
            {...form.getInputProps("ticket")}
          />
          <Textarea label="Comments" required autosize minRows={3} {...form.getInputProps("reason")} />
          <Group justify="flex-end">
            <Button type="submit" loading={form.submitting}>
              Submit request
            </Button>
          </Group>
        </Stack>
      </Paper>
    </Page>
  );
}
