import { Button, Fieldset, Group, Loader, NumberInput, Select, Stack, Switch, TagsInput, Text } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { useApproverGroupOptions } from "../app/approver-groups.ts";
import { applyApiError } from "../app/form-errors.ts";
import { formatDateTime } from "../app/format.tsx";
import { Page } from "../app/page.tsx";
import { ErrorAlert } from "../app/ui.tsx";
import { useViewer } from "../app/viewer.tsx";
import type { PrivilegedAccessQuery, UnknownTaskAction } from "../gql/graphql.ts";
import { graphql } from "../gql/index.ts";
import { type Outcome, outcome } from "../graphql/results.ts";

const PrivilegedAccess = graphql(`
  query PrivilegedAccess {
    elevatedAccessControl {
      enabled
      defaultApproverGroup {
        id
        email
      }
      systemAccounts {
        id
        email
      }
      maxPolicies
      requestLifetimeHours
      defaultDurationHours
      unknownTasks
      updatedAt
    }
  }
`);

const EnableControl = graphql(`
  mutation EnableControl($input: EnableElevatedAccessControlInput!) {
    enableElevatedAccessControl(input: $input) {
      __typename
      ... on ElevatedAccessControl {
        enabled
        updatedAt
      }
      ...MutationError
    }
  }
`);

const DisableControl = graphql(`
  mutation DisableControl {
    disableElevatedAccessControl {
      __typename
      ... on ElevatedAccessControl {
        enabled
        updatedAt
      }
      ...MutationError
    }
  }
`);

const UpdateControl = graphql(`
  mutation UpdateControl($input: UpdateElevatedAccessControlInput!) {
    updateElevatedAccessControl(input: $input) {
      __typename
      ... on ElevatedAccessControl {
        enabled
        updatedAt
      }
      ...MutationError
    }
  }
`);

type Control = PrivilegedAccessQuery["elevatedAccessControl"];

function FormFailure({ message }: { message: string | null }) {
  return message ? <ErrorAlert>{message}</ErrorAlert> : null;
}

/** "Allow requests for privileged access", with the default approver group and the system accounts. */
interface FormProps {
  control: Control;
  editable: boolean;
  onSaved(): void;
}

function ControlForm({ control, editable, onSaved }: FormProps) {
  const groups = useApproverGroupOptions();
  const [, enable] = useMutation(EnableControl);
  const [, disable] = useMutation(DisableControl);
  const [, update] = useMutation(UpdateControl);
  const [failure, setFailure] = useState<string | null>(null);
  const form = useForm({
    initialValues: {
      enabled: control.enabled,
      adminGroup: control.defaultApproverGroup?.email ?? null,
      systemAccounts: control.systemAccounts.map((account) => account.email),
    },
    validate: {
      adminGroup: (value, values) => (values.enabled && !value ? "Choose the default approval group" : null),
    },
  });
  const submit = form.onSubmit(async ({ enabled, adminGroup, systemAccounts }) => {
    setFailure(null);
    let result: Outcome<unknown>;
    if (enabled && !control.enabled)
      result = outcome(await enable({ input: { adminGroup: adminGroup!, systemAccounts } }), "ElevatedAccessControl");
    else if (enabled)
      result = outcome(
        await update({ input: { defaultApproverGroup: adminGroup, systemAccounts } }),
        "ElevatedAccessControl",
      );
    else if (control.enabled) result = outcome(await disable({}), "ElevatedAccessControl");
    else return;
    if (result.error) setFailure(applyApiError(form, result.error, { defaultApproverGroup: "adminGroup" }));
    else onSaved();
  });
  return (
    <form onSubmit={submit} noValidate>
      <Fieldset legend="Access control" disabled={!editable}>
        <Stack>
          <FormFailure message={failure} />
          <Switch
            label="Allow requests for privileged access"
            description="On: every task a policy covers needs an approved request before it runs"
            {...form.getInputProps("enabled", { type: "checkbox" })}
          />
          <Select label="Default approval group" data={groups.options} {...form.getInputProps("adminGroup")} />
          <TagsInput
            label="System accounts"
            description="Accounts excluded from the control (every bypass is logged); Enter after each"
            {...form.getInputProps("systemAccounts")}
          />
          {editable && (
            <Group justify="flex-end">
              <Button type="submit" loading={form.submitting}>
                Save
              </Button>
            </Group>
          )}
        </Stack>
      </Fieldset>
    </form>
  );
}

function RequestSettingsForm({ control, editable, onSaved }: FormProps) {
  const [, update] = useMutation(UpdateControl);
  const [failure, setFailure] = useState<string | null>(null);
  const form = useForm({
    initialValues: {
      defaultDurationHours: control.defaultDurationHours as number | string,
      requestLifetimeHours: control.requestLifetimeHours as number | string,
      maxPolicies: control.maxPolicies as number | string,
      unknownTasks: control.unknownTasks as UnknownTaskAction,
    },
  });
  const submit = form.onSubmit(async (values) => {
    setFailure(null);
    const result = outcome(
      await update({
        input: {
          defaultDurationHours: Number(values.defaultDurationHours),
          requestLifetimeHours: Number(values.requestLifetimeHours),
          maxPolicies: Number(values.maxPolicies),
          unknownTasks: values.unknownTasks,
        },
      }),
      "ElevatedAccessControl",
    );
    if (result.error) setFailure(applyApiError(form, result.error));
    else onSaved();
  });
  return (
    <form onSubmit={submit} noValidate>
      <Fieldset legend="Requests" disabled={!editable}>
        <Stack>
          <FormFailure message={failure} />
          <NumberInput
            label="Default duration (hours)"
            min={1}
            allowDecimal={false}
            {...form.getInputProps("defaultDurationHours")}
          />
          <NumberInput
            label="Request lifetime (hours)"
            description="How long a request waits for a decision before it expires"
            min={1}
            allowDecimal={false}
            {...form.getInputProps("requestLifetimeHours")}
          />
          <NumberInput
            label="Maximum number of policies"
            min={1}
            allowDecimal={false}
            {...form.getInputProps("maxPolicies")}
          />
          <Select
            label="Tasks the catalog does not know"
            allowDeselect={false}
            data={[
              { value: "DENY", label: "Deny" },
              { value: "ALLOW", label: "Allow" },
            ]}
            {...form.getInputProps("unknownTasks")}
          />
          {editable && (
            <Group justify="flex-end">
              <Button type="submit" loading={form.submitting}>
                Save
              </Button>
            </Group>
          )}
        </Stack>
      </Fieldset>
    </form>
  );
}

/** The organization's privileged access settings (admins change them; approvers and auditors read). */
export function SettingsPage() {
  const { isAdmin } = useViewer();
  const [{ data, error, fetching }] = useQuery({ query: PrivilegedAccess });
  const control = data?.elevatedAccessControl;
  const [savedAt, setSavedAt] = useState<string | null>(null);
  const onSaved = () => setSavedAt(new Date().toLocaleTimeString());
  return (
    <Page title="Privileged access">
      {error && <ErrorAlert>{error.message}</ErrorAlert>}
      {fetching && !data && <Loader aria-label="Loading settings" />}
      {control && (
        <Stack maw={640}>
          <Text size="sm">Last changed {formatDateTime(control.updatedAt)}.</Text>
          <Text size="sm" role="status">
            {savedAt && `Saved at ${savedAt}.`}
          </Text>
          {/* Keyed by the last change, so each form starts from what the server holds now. */}
          <ControlForm key={`control-${control.updatedAt}`} control={control} editable={isAdmin} onSaved={onSaved} />
          <RequestSettingsForm
            key={`requests-${control.updatedAt}`}
            control={control}
            editable={isAdmin}
            onSaved={onSaved}
          />
        </Stack>
      )}
    </Page>
  );
}
