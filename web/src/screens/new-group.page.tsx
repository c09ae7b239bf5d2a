import { Button, Group, Paper, Stack, TagsInput, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { useNavigate } from "react-router";
import { useMutation } from "urql";
import { applyApiError } from "../app/form-errors.ts";
import { Page } from "../app/page.tsx";
import { ErrorAlert } from "../app/ui.tsx";
import { graphql } from "../gql/index.ts";
import { outcome } from "../graphql/results.ts";

const CreateGroup = graphql(`
  mutation CreateGroup($input: CreateApproverGroupInput!) {
    createApproverGroup(input: $input) {
      __typename
      ... on ApproverGroup {
        id
      }
      ...MutationError
    }
  }
`);

/** A mail-enabled approver group and its first members. */
export function NewGroupPage() {
  const navigate = useNavigate();
  const [, createGroup] = useMutation(CreateGroup);
  const [failure, setFailure] = useState<string | null>(null);
  const form = useForm({
    initialValues: { name: "", email: "", description: "", memberEmails: [] as string[] },
  });
  const submit = form.onSubmit(async (values) => {
    setFailure(null);
    const result = outcome(
      await createGroup({
        input: {
          name: values.name.trim(),
          email: values.email.trim(),
          description: values.description.trim() || null,
          memberEmails: values.memberEmails,
        },
      }),
      "ApproverGroup",
    );
    if (result.ok) return navigate("/groups");
    setFailure(applyApiError(form, result.error));
  });
  return (
    <Page title="Create approver group">
      <Paper withBorder p="md" component="form" onSubmit={submit} noValidate maw={640}>
        <Stack>
          {failure && <ErrorAlert>{failure}</ErrorAlert>}
          <TextInput label="Name" required {...form.getInputProps("name")} />
          <TextInput label="Email" description="The group's mail address" required {...form.getInputProps("email")} />
          <TextInput label="Description" {...form.getInputProps("description")} />
          <TagsInput label="Members" placeholder="Email, then Enter" {...form.getInputProps("memberEmails")} />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => navigate("/groups")}>
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
