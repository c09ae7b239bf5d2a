import { Alert, Button, Group, NumberInput, Paper, Select, Stack, Textarea } from "@mantine/core";
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
    }
    elevatedAccessControl {
      enabled
      defaultDurationHours
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

/** "New request": what to run, for how long and why. */
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
      reason: "",
    },
    validate: {
      target: (value) => (value ? null : "Choose what the request is for"),
      reason: (value) => (value.trim() ? null : "Say why you need the access"),
    },
  });
  const { type, scope, target } = form.getValues();
  const catalog = useCatalogOptions(type, scope);
  const governed = data?.governedTargets.find(
    (entry) => entry.type === type && entry.scope === scope && entry.target === target,
  );
  const defaultHours = data?.elevatedAccessControl.defaultDurationHours;

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
