import {
  Button,
  Fieldset,
  Group,
  Loader,
  NumberInput,
  Select,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
} from "@mantine/core";
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
      lockboxApproverGroup {
        id
        email
      }
      lockboxRequestLifetimeHours
      lockboxMaxDurationHours
      updatedAt
    }
  }
`);

const LockboxVendors = graphql(`
  query LockboxVendors {
    users(filter: { vendor: true }, first: 100) {
      edges {
        node {
          id
          vendorName
          displayName
          active
        }
      }
    }
  }
`);

const RegisterVendor = graphql(`
  mutation RegisterVendor($input: RegisterLockboxVendorInput!) {
    registerLockboxVendor(input: $input) {
      __typename
      ... on User {
        id
      }
      ...MutationError
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

/**
 * Customer Lockbox: the group deciding vendors' requests (naming one turns Lockbox on),
 * how long an undecided request waits and how long a grant may last.
 */
function LockboxForm({ control, editable, onSaved }: FormProps) {
  const groups = useApproverGroupOptions();
  const [, update] = useMutation(UpdateControl);
  const [failure, setFailure] = useState<string | null>(null);
  const form = useForm({
    initialValues: {
      lockboxApproverGroup: control.lockboxApproverGroup?.email ?? null,
      lockboxRequestLifetimeHours: control.lockboxRequestLifetimeHours as number | string,
      lockboxMaxDurationHours: control.lockboxMaxDurationHours as number | string,
    },
  });
  const submit = form.onSubmit(async (values) => {
    setFailure(null);
    const result = outcome(
      await update({
        input: {
          ...(values.lockboxApproverGroup ? { lockboxApproverGroup: values.lockboxApproverGroup } : {}),
          lockboxRequestLifetimeHours: Number(values.lockboxRequestLifetimeHours),
          lockboxMaxDurationHours: Number(values.lockboxMaxDurationHours),
        },
      }),
      "ElevatedAccessControl",
    );
    if (result.error) setFailure(applyApiError(form, result.error));
    else onSaved();
  });
  return (
    <form onSubmit={submit} noValidate>
      <Fieldset legend="Customer Lockbox" disabled={!editable}>
        <Stack>
          <FormFailure message={failure} />
          <Select
            label="Lockbox approval group"
            description="Decides vendors' requests for access to your content; choosing one turns Customer Lockbox on"
            data={groups.options}
            {...form.getInputProps("lockboxApproverGroup")}
          />
          <NumberInput
            label="Lockbox request lifetime (hours)"
            description="An undecided vendor request expires after this (1 to 72)"
            min={1}
            allowDecimal={false}
            {...form.getInputProps("lockboxRequestLifetimeHours")}
          />
          <NumberInput
            label="Lockbox maximum access (hours)"
            description="The longest a vendor's access lasts (1 to 24)"
            min={1}
            allowDecimal={false}
            {...form.getInputProps("lockboxMaxDurationHours")}
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

/** The registered vendors, and (admins) registering one by its service identity's object ID. */
function VendorsForm({ editable }: { editable: boolean }) {
  const [{ data, error }, refetch] = useQuery({ query: LockboxVendors });
  const [, register] = useMutation(RegisterVendor);
  const [failure, setFailure] = useState<string | null>(null);
  const form = useForm({ initialValues: { vendorName: "", subject: "" } });
  const submit = form.onSubmit(async (values) => {
    setFailure(null);
    const result = outcome(await register({ input: values }), "User");
    if (result.error) setFailure(applyApiError(form, result.error));
    else {
      form.reset();
      refetch({ requestPolicy: "network-only" });
    }
  });
  const vendors = data?.users.edges.map(({ node }) => node) ?? [];
  return (
    <form onSubmit={submit} noValidate>
      <Fieldset legend="Customer Lockbox vendors" disabled={!editable}>
        <Stack>
          {error && <ErrorAlert>{error.message}</ErrorAlert>}
          <FormFailure message={failure} />
          <Text size="sm" aria-label="Registered vendors">
            {vendors.length
              ? vendors.map((vendor) => `${vendor.vendorName} (${vendor.displayName})`).join(", ")
              : "No vendor is registered."}
          </Text>
          {editable && (
            <>
              <TextInput label="Vendor name" {...form.getInputProps("vendorName")} />
              <TextInput
                label="Service identity object ID"
                description="The oid of the vendor's tokens at your identity provider"
                {...form.getInputProps("subject")}
              />
              <Group justify="flex-end">
                <Button type="submit" loading={form.submitting}>
                  Register vendor
                </Button>
              </Group>
            </>
          )}
        </Stack>
      </Fieldset>
    </form>
  );
}

/** The organization's privileged access settings (admins change them; approvers and auditors read). */
export function SettingsPage() {
  const { isAdmin, isReader } = useViewer();
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
          <LockboxForm key={`lockbox-${control.updatedAt}`} control={control} editable={isAdmin} onSaved={onSaved} />
          {isReader && <VendorsForm editable={isAdmin} />}
        </Stack>
      )}
    </Page>
  );
}
