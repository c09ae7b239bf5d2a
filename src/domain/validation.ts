import { z } from "zod";
import { ValidationError } from "./errors.ts";
import { decodeGlobalId } from "./global-id.ts";

/** Parses input with zod; the first broken rule becomes a ValidationError naming its field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new ValidationError(issue.path.join(".") || "input", issue.message);
}

/**
 * The one rule for text from outside, whichever door it comes through: PostgreSQL
 * refuses NUL in text and JSON, and an unpaired surrogate is not UTF-8 at all.
 * Returns why a string is unacceptable, or null.
 */
export function unsafeTextReason(value: string): string | null {
  if (value.includes("\u0000")) return "must not contain NUL characters";
  if (/\p{Cs}/u.test(value)) return "must not contain unpaired surrogate characters";
  return null;
}

/** A string that passes `unsafeTextReason`. */
export const safeString = () =>
  z.string().superRefine((value, ctx) => {
    const reason = unsafeTextReason(value);
    if (reason) ctx.addIssue({ code: "custom", message: reason, fatal: true });
  });

export interface JsonLimits {
  maxDepth: number;
  maxBytes: number;
}

/**
 * Why a JSON value is unacceptable (too deep, too large, unsafe text in a key or a
 * string), or null. Walks with an explicit stack: a value nested thousands of levels
 * deep must not overflow the call stack of the check meant to refuse it.
 */
export function jsonProblem(value: unknown, limits: JsonLimits): string | null {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  let bytes = 0;
  while (stack.length > 0) {
    const { value: item, depth } = stack.pop()!;
    if (depth > limits.maxDepth) return `must be nested at most ${limits.maxDepth} levels deep`;
    if (typeof item === "string") {
      bytes += item.length + 2;
      const reason = unsafeTextReason(item);
      if (reason) return reason;
    } else if (Array.isArray(item)) {
      bytes += 2;
      for (const element of item) stack.push({ value: element, depth: depth + 1 });
    } else if (item !== null && typeof item === "object") {
      bytes += 2;
      for (const [key, element] of Object.entries(item)) {
        bytes += key.length + 3;
        const reason = unsafeTextReason(key);
        if (reason) return reason;
        stack.push({ value: element, depth: depth + 1 });
      }
    } else bytes += 8;
    if (bytes > limits.maxBytes) return `must be at most ${Math.floor(limits.maxBytes / 1024)} KB of JSON`;
  }
  return null;
}

export const emailAddress = safeString()
  .trim()
  .toLowerCase()
  .max(254, "must be at most 254 characters")
  .pipe(z.email("must be a valid email address"));

export const nonEmptyText = (max: number) =>
  safeString().trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`);

export const optionalText = (max: number) =>
  safeString()
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
  return safeString()
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
export const isUuid = (value: string) => uuidPattern.test(value);

export function decodeId(typename: string, value: string): string | null {
  if (isUuid(value)) return value.toLowerCase();
  const decoded = decodeGlobalId(value);
  return decoded?.typename === typename && uuidPattern.test(decoded.id) ? decoded.id.toLowerCase() : null;
}
