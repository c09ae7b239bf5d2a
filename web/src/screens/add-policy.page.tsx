import {
  Button,
  Fieldset,
  Group,
  MultiSelect,
  NumberInput,
  Paper,
  Select,
  Stack,
  Switch,
  TextInput,
} from "@mantine/core";
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
import type { ApprovalType, PolicyScope, PolicyType, Weekday } from "../gql/graphql.ts";
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

const weekdays: { value: Weekday; label: string }[] = [
  { value: "MON", label: "Monday" },
  { value: "TUE", label: "Tuesday" },
  { value: "WED", label: "Wednesday" },
  { value: "THU", label: "Thursday" },
  { value: "FRI", label: "Friday" },
  { value: "SAT", label: "Saturday" },
  { value: "SUN", label: "Sunday" },
];

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
      requireMfa: false,
      secondStageGroup: null as string | null,
      secondStageApprovals: 1 as number | string,
      escalationGroup: null as string | null,
      escalateAfterHours: "" as number | string,
      autoApproveGroup: null as string | null,
      autoApproveMaxHours: "" as number | string,
      autoApproveDays: [] as string[],
      autoApproveFrom: "09:00",
      autoApproveUntil: "17:00",
      autoApproveTicket: false,
    },
    validate: { target: (value) => (value ? null : "Choose the policy name from the catalog") },
  });
  const values = form.getValues();
  const catalog = useCatalogOptions(values.type, values.scope);
  const manual = values.approvalType === "MANUAL";

  const submit = form.onSubmit(async (input) => {
    setFailure(null);
    const firstStage = input.approverGroup ?? groups.defaultGroup;
    // A second stage turns the group and approvals above into stage 1 of two.
    const stages =
      manual && input.secondStageGroup && firstStage
        ? [
            { approverGroup: firstStage, requiredApprovals: Number(input.requiredApprovals) },
            { approverGroup: input.secondStageGroup, requiredApprovals: Number(input.secondStageApprovals) },
          ]
        : null;
    const window =
      input.autoApproveDays.length > 0
        ? { days: input.autoApproveDays as Weekday[], start: input.autoApproveFrom, end: input.autoApproveUntil }
        : null;
    const conditions =
      manual && (input.autoApproveGroup || input.autoApproveMaxHours !== "" || window || input.autoApproveTicket)
        ? {
            requesterInGroup: input.autoApproveGroup,
            maxDurationHours: input.autoApproveMaxHours === "" ? null : Number(input.autoApproveMaxHours),
            window,
            ticketGiven: input.autoApproveTicket,
          }
        : null;
    const result = outcome(
      await createPolicy({
        input: {
          type: input.type,
          scope: input.scope,
          target: input.target,
          approvalType: input.approvalType,
          approverGroup: stages ? null : input.approverGroup,
          requiredApprovals: manual && !stages ? Number(input.requiredApprovals) : 1,
          maxDurationHours: input.maxDurationHours === "" ? null : Number(input.maxDurationHours),
          requireMfa: manual && input.requireMfa,
          stages,
          autoApproveWhen: conditions,
          // Sent as typed (a group without hours, or hours without a group) so the API names the missing field.
          escalationGroup: manual ? input.escalationGroup : null,
          escalateAfterHours: manual && input.escalateAfterHours !== "" ? Number(input.escalateAfterHours) : null,
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
              <Switch
                label="Approvers decide with multi-factor authentication"
                description="Decisions count only from a sign-in with MFA; email buttons open this console to sign in"
                {...form.getInputProps("requireMfa", { type: "checkbox" })}
              />
              <Fieldset legend="Second stage (optional)">
                <Select
                  label="Then approved by"
                  description="Asked once the group above has approved"
                  placeholder="No second stage"
                  data={groups.options}
                  clearable
                  {...form.getInputProps("secondStageGroup")}
                />
                <NumberInput
                  label="Second stage approvals"
                  min={1}
                  allowDecimal={false}
                  {...form.getInputProps("secondStageApprovals")}
                />
              </Fieldset>
              <Fieldset legend="Escalation (optional)">
                <Select
                  label="Escalate to"
                  description="This group's members may also decide a request nobody decided in time, and are mailed then"
                  placeholder="No escalation"
                  data={groups.options}
                  clearable
                  {...form.getInputProps("escalationGroup")}
                />
                <NumberInput
                  label="Escalate after (hours)"
                  description="Hours after filing; less than the request lifetime (24 by default)"
                  min={1}
                  allowDecimal={false}
                  {...form.getInputProps("escalateAfterHours")}
                />
              </Fieldset>
              <Fieldset legend="Approve at once when (optional)">
                <Select
                  label="The requester is in"
                  placeholder="Any requester"
                  data={groups.options}
                  clearable
                  {...form.getInputProps("autoApproveGroup")}
                />
                <NumberInput
                  label="And asks for at most (hours)"
                  description="Other requests go to the approvers"
                  min={1}
                  allowDecimal={false}
                  {...form.getInputProps("autoApproveMaxHours")}
                />
                <MultiSelect
                  label="And files it on"
                  description="In the organization's time zone (Privileged access settings)"
                  placeholder="Any day"
                  data={weekdays}
                  {...form.getInputProps("autoApproveDays")}
                />
                {values.autoApproveDays.length > 0 && (
                  <Group grow>
                    <TextInput label="From (HH:MM)" {...form.getInputProps("autoApproveFrom")} />
                    <TextInput label="Until (HH:MM)" {...form.getInputProps("autoApproveUntil")} />
                  </Group>
                )}
                <Switch label="And gives a ticket" {...form.getInputProps("autoApproveTicket", { type: "checkbox" })} />
              </Fieldset>
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
