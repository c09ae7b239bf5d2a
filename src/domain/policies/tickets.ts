import { RE2JS } from "re2js";
import { ValidationError } from "../errors.ts";
import { nonEmptyText, safeString } from "../validation.ts";

/** Longest pattern an admin may set, and longest ticket reference a request may carry. */
export const maxTicketPatternLength = 200;
export const maxTicketLength = 64;

/**
 * Why a ticket pattern is unacceptable, or null. Patterns are compiled and matched by
 * RE2JS (a port of RE2): matching takes time linear in the ticket's length whatever
 * the pattern, so an admin's `(a+)+$` cannot stall a request (no ReDoS), and what RE2
 * cannot promise that for (backreferences, lookaround) is refused here, at set time.
 */
export function ticketPatternProblem(pattern: string): string | null {
  try {
    RE2JS.compile(pattern);
    return null;
  } catch (error) {
    return `must be a regular expression RE2 accepts (no backreferences or lookaround): ${(error as Error).message}`;
  }
}

/** A policy's ticket pattern as an admin sets it. */
export const ticketPattern = safeString()
  .trim()
  .min(1, "must not be empty")
  .max(maxTicketPatternLength, `must be at most ${maxTicketPatternLength} characters`)
  .superRefine((pattern, ctx) => {
    const problem = ticketPatternProblem(pattern);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** A request's ticket reference. */
export const ticketReference = nonEmptyText(maxTicketLength);

export interface TicketRule {
  ticketRequired: boolean;
  ticketPattern: string | null;
}

/**
 * Checks a request's ticket against its policy: required when the policy says so, and
 * matching the policy's pattern in full whenever one is set and a ticket is given.
 */
export function checkTicket(rule: TicketRule, ticket: string | null | undefined): void {
  if (ticket == null) {
    if (rule.ticketRequired) {
      throw new ValidationError(
        "ticket",
        rule.ticketPattern
          ? `is required by the request's policy (matching ${rule.ticketPattern})`
          : "is required by the request's policy",
      );
    }
    return;
  }
  if (rule.ticketPattern && !RE2JS.compile(rule.ticketPattern).matches(ticket)) {
    throw new ValidationError("ticket", `must match the policy's pattern ${rule.ticketPattern}`);
  }
}
