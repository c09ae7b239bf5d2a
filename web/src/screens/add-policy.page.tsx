import { Button, Group, NumberInput, Paper, Select, Stack } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { useNavigate } from "react-router";
import { useMutation } from "urql";
import { useApproverGroupOptions } from "../app/approver-groups.ts";
import { useCatalogOptions } from "../app/catalog.ts";
import { applyApiError } from "../app/form-errors.ts";
import { policyTypeLabels, scopeLabels } from "../app/format.tsx";
import { LabelledSegments } from "../app/labelled-segments.tsx";
import { Page } from "../app/page.tsx";
import { ErrorAlert } from "../app/ui.tsx";
import type { ApprovalType, PolicyScope, PolicyType } from "../gql/graphql.ts";
import { graphql } from "../gql/index.ts";
import { outcome } from "../graphql/results.ts";

const CreatePolicy = graphql(`
  mutation CreatePolicy($input: CreateApprovalPolicyInput!) {
    createApprovalPolicy(input: $input) {
      __typename
      ... on ApprovalPolicy {
        id
      }
      ...MutationError
    }
  }
`);

const types = Object.entries(policyTypeLabels).map(([value, label]) => ({ value, label }));
const scopes = Object.entries(scopeLabels).map(([value, label]) => ({ value, label }));

/** "Add a policy": which catalog entry needs approval, by whom, how many and for how long at most. */
export function AddPolicyPage() {
  const navigate = useNavigate();
  const [, createPolicy] = useMutation(CreatePolicy);
  const groups = useApproverGroupOptions();
  const [failure, setFailure] = useState<string | null>(null);
  const form = useForm({
    initialValues: {
      type: "TASK" as PolicyType,
      scope: "EXCHANGE" as PolicyScope,
      target: "",
      approvalType: "MANUAL" as ApprovalType,
      approverGroup: null as string | null,
      requiredApprovals: 1 as number | string,
      maxDurationHours: "" as number | string,
    },
    validate: { target: (value) => (value ? null : "Choose the policy name from the catalog") },
  });
  const values = form.getValues();
  const catalog = useCatalogOptions(values.type, values.scope);
  const manual = values.approvalType === "MANUAL";

  const submit = form.onSubmit(async (input) => {
    setFailure(null);
    const result = outcome(
      await createPolicy({
        input: {
          type: input.type,
          scope: input.scope,
          target: input.target,
          approvalType: input.approvalType,
          approverGroup: input.approverGroup,
          requiredApprovals: manual ? Number(input.requiredApprovals) : 1,
          maxDurationHours: input.maxDurationHours === "" ? null : Number(input.maxDurationHours),
        },
      }),
      "ApprovalPolicy",
    );
    if (result.ok) return navigate("/policies");
    setFailure(applyApiError(form, result.error));
  });

  return (
    <Page title="Add a policy">
      <Paper withBorder p="md" component="form" onSubmit={submit} noValidate maw={640}>
        <Stack>
          {failure && <ErrorAlert>{failure}</ErrorAlert>}
          <LabelledSegments
            label="Policy type"
            id="policy-type"
            data={types}
            {...form.getInputProps("type")}
            onChange={(value) => {
              form.setFieldValue("type", value as PolicyType);
              form.setFieldValue("target", "");
            }}
          />
          <Select
            label="Policy scope"
            data={scopes}
            allowDeselect={false}
            {...form.getInputProps("scope")}
            onChange={(value) => {
              form.setFieldValue("scope", (value ?? "EXCHANGE") as PolicyScope);
              form.setFieldValue("target", "");
            }}
          />
          <Select
            label="Policy name"
            placeholder="Search the catalog"
            searchable
            required
            nothingFoundMessage="Nothing in the catalog matches"
            data={catalog.options}
            {...form.getInputProps("target")}
          />
          <LabelledSegments
            label="Approval type"
            id="approval-type"
            data={[
              { value: "MANUAL", label: "Manual" },
              { value: "AUTO", label: "Auto" },
            ]}
            {...form.getInputProps("approvalType")}
          />
          {manual && (
            <>
              <Select
                label="Approval group"
                placeholder={groups.defaultGroup ? `Default: ${groups.defaultGroup}` : "Choose a group"}
                data={groups.options}
                clearable
                {...form.getInputProps("approverGroup")}
              />
              <NumberInput
                label="Required approvals"
                description="Distinct approvers who must approve (one denial denies)"
                min={1}
                allowDecimal={false}
                {...form.getInputProps("requiredApprovals")}
              />
            </>
          )}
          <NumberInput
            label="Maximum duration (hours)"
            description="Empty: up to 720 hours"
            min={1}
            allowDecimal={false}
            {...form.getInputProps("maxDurationHours")}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => navigate("/policies")}>
              Cancel
            </Button>
            <Button type="submit" loading={form.submitting}>
              Create
            </Button>
          </Group>
        </Stack>
      </Paper>
    </Page>
  );
}
