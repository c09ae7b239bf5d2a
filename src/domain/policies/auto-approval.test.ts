import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { parseInput } from "../validation.ts";
import {
  assertConditionsFit,
  autoApprovalInput,
  isTimeZone,
  localTime,
  readConditions,
  unmetConditions,
  type Weekday,
} from "./auto-approval.ts";

const group = "0192f1e2-0000-7000-8000-000000000001";
const facts = {
  requesterGroupIds: [group],
  durationHours: 2,
  ticket: "INC0012345" as string | null,
  // A Tuesday, 09:30 in Paris (UTC+1 in November).
  now: new Date("2026-11-24T08:30:00Z"),
  timeZone: "Europe/Paris",
};
const weekdaysNineToFive = {
  days: ["MON", "TUE", "WED", "THU", "FRI"] satisfies Weekday[] as Weekday[],
  start: "09:00",
  end: "17:00",
};

describe("unmetConditions", () => {
  it("approves when every named condition holds", () => {
    expect(
      unmetConditions(
        {
          requesterInGroupId: group,
          maxDurationHours: 2,
          window: { ...weekdaysNineToFive, days: ["TUE"] },
          ticketGiven: true,
        },
        facts,
      ),
    ).toEqual([]);
  });

  it("names each condition that does not hold", () => {
    expect(
      unmetConditions(
        {
          requesterInGroupId: "0192f1e2-0000-7000-8000-000000000002",
          maxDurationHours: 1,
          window: null,
          ticketGiven: true,
        },
        { ...facts, ticket: null },
      ),
    ).toEqual(["requesterInGroup", "maxDurationHours", "ticketGiven"]);
  });

  it("reads the window in the organization's time zone, its end excluded", () => {
    const conditions = {
      requesterInGroupId: null,
      maxDurationHours: null,
      window: weekdaysNineToFive,
      ticketGiven: false,
    };
    // 08:30 UTC is 09:30 in Paris but 03:30 in New York.
    expect(unmetConditions(conditions, facts)).toEqual([]);
    expect(unmetConditions(conditions, { ...facts, timeZone: "America/New_York" })).toEqual(["window"]);
    expect(unmetConditions(conditions, { ...facts, now: new Date("2026-11-24T16:00:00Z") })).toEqual(["window"]);
    // Saturday in Paris.
    expect(unmetConditions(conditions, { ...facts, now: new Date("2026-11-28T10:00:00Z") })).toEqual(["window"]);
  });
});

describe("conditions as data", () => {
  it("refuses empty conditions, bad times and windows that end before they start, naming the field", () => {
    const refusal = (input: unknown) => {
      try {
        parseInput(autoApprovalInput, input);
      } catch (error) {
        return error as ValidationError;
      }
      throw new Error("accepted");
    };
    expect(refusal({}).message).toContain("at least one condition");
    expect(refusal({ window: { days: ["TUE"], start: "9:00", end: "17:00" } }).field).toBe("window.start");
    expect(refusal({ window: { days: ["TUE"], start: "17:00", end: "09:00" } }).field).toBe("window.end");
    expect(refusal({ window: { days: [], start: "09:00", end: "17:00" } }).field).toBe("window.days");
    expect(refusal({ maxDurationHours: 0 }).field).toBe("maxDurationHours");
  });

  it("reads an unreadable stored value as no conditions, never as approval", () => {
    expect(readConditions({ maxDurationHours: "lots" })).toBeNull();
    expect(readConditions(null)).toBeNull();
  });

  it("keeps conditions to MANUAL policies", () => {
    expect(() => assertConditionsFit("AUTO", { maxDurationHours: 2 })).toThrow(ValidationError);
    expect(() => assertConditionsFit("MANUAL", { maxDurationHours: 2 })).not.toThrow();
  });

  it("knows time zones and local times", () => {
    expect(isTimeZone("Europe/Paris")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
    expect(localTime(new Date("2026-11-29T23:30:00Z"), "Asia/Tokyo")).toEqual({ day: "MON", time: "08:30" });
  });
});
