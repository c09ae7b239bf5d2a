import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { checkTicket, ticketPattern, ticketPatternProblem } from "./tickets.ts";

describe("ticket patterns", () => {
  it("accepts what RE2 compiles and refuses backreferences, lookaround and broken syntax", () => {
    expect(ticketPatternProblem("^INC[0-9]{7}$")).toBeNull();
    expect(ticketPatternProblem("(CHG|INC)-\\d+")).toBeNull();
    expect(ticketPatternProblem("(a)\\1")).toMatch(/RE2 accepts/);
    expect(ticketPatternProblem("INC(?=1)")).toMatch(/RE2 accepts/);
    expect(ticketPatternProblem("INC[0-9")).toMatch(/RE2 accepts/);
  });

  it("bounds the pattern's length", () => {
    expect(ticketPattern.safeParse("a".repeat(200)).success).toBe(true);
    expect(ticketPattern.safeParse("a".repeat(201)).success).toBe(false);
    expect(ticketPattern.safeParse("  ").success).toBe(false);
  });
});

describe("checkTicket", () => {
  const rule = { ticketRequired: true, ticketPattern: "^INC[0-9]{7}$" };

  it("requires a ticket when the policy does, and matches the whole ticket against its pattern", () => {
    expect(() => checkTicket(rule, null)).toThrow(
      new ValidationError("ticket", "is required by the request's policy (matching ^INC[0-9]{7}$)"),
    );
    expect(() => checkTicket(rule, "INC1234567")).not.toThrow();
    expect(() => checkTicket(rule, "INC123")).toThrow(/ticket: must match the policy's pattern/);
    expect(() => checkTicket({ ticketRequired: false, ticketPattern: "INC[0-9]+" }, "xINC1")).toThrow(/must match/);
    expect(() => checkTicket({ ticketRequired: false, ticketPattern: null }, null)).not.toThrow();
    expect(() => checkTicket({ ticketRequired: false, ticketPattern: null }, "anything")).not.toThrow();
  });

  it("matches a pathological pattern in linear time: (a+)+$ against 64 a's and a bang answers at once", () => {
    // A backtracking engine takes 2^64 steps here; the test would never finish.
    expect(() => checkTicket({ ticketRequired: true, ticketPattern: "(a+)+$" }, `${"a".repeat(63)}!`)).toThrow(
      /must match/,
    );
  });
});
