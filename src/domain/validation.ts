import { z } from "zod";
import { ValidationError } from "./errors.ts";

/** Parses input with zod; the first broken rule becomes a ValidationError naming its field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new ValidationError(issue.path.join(".") || "input", issue.message);
}

export const emailAddress = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, "must be at most 254 characters")
  .pipe(z.email("must be a valid email address"));

export const nonEmptyText = (max: number) =>
  z.string().trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`);

export const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .nullish()
    .transform((value) => value || null);

export const wholeHours = (max: number) =>
  z
    .number("must be a number of hours")
    .int("must be a whole number of hours")
    .min(1, "must be at least 1 hour")
    .max(max, `must be at most ${max} hours`);

/** Accepts a raw UUID or a Relay global ID of the given type. */
export function entityId(typename: string) {
  return z
    .string()
    .trim()
    .min(1, "must not be empty")
    .transform((value, ctx) => {
      const id = decodeId(typename, value);
      if (!id) {
        ctx.addIssue({ code: "custom", message: `must be the ID of a ${typename}` });
        return z.NEVER;
      }
      return id;
    });
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeId(typename: string, value: string): string | null {
  if (uuidPattern.test(value)) return value.toLowerCase();
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const [type, id] = [decoded.slice(0, decoded.indexOf(":")), decoded.slice(decoded.indexOf(":") + 1)];
  return type === typename && uuidPattern.test(id) ? id.toLowerCase() : null;
}
