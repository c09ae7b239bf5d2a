import type { UseFormReturnType } from "@mantine/form";
import { type ApiError, messageForField } from "../graphql/results.ts";

/**
 * Shows an API error next to the field it names (ValidationError and NotFoundError
 * carry `field`); answers the message to show above the form when the form has no
 * such field. `fields` maps API input names to form field names where they differ.
 */
export function applyApiError<Values extends object>(
  form: UseFormReturnType<Values>,
  error: ApiError,
  fields: Record<string, string> = {},
): string | null {
  const field = error.field ? (fields[error.field] ?? error.field) : undefined;
  if (field && field in form.getValues()) {
    form.setFieldError(field, messageForField(error));
    return null;
  }
  return error.message;
}
