import { describe, expect, it } from "vitest";
import { StepUpRequiredError } from "../errors.ts";
import { assertStepUp, showsMfa } from "./step-up.ts";

describe("showsMfa", () => {
  it("counts an amr with mfa, or an acr the organization names, and nothing else", () => {
    expect(showsMfa({ methods: ["pwd", "mfa"], context: null }, [])).toBe(true);
    expect(showsMfa({ methods: ["pwd"], context: null }, [])).toBe(false);
    expect(showsMfa({ methods: ["pwd"], context: "c2" }, ["c2"])).toBe(true);
    expect(showsMfa({ methods: ["pwd"], context: "c1" }, ["c2"])).toBe(false);
    expect(showsMfa(undefined, ["c2"])).toBe(false);
  });
});

describe("assertStepUp", () => {
  it("lets any decision through where no step-up is required", () => {
    expect(() => assertStepUp({ required: false, acceptedAcrValues: [] }, undefined)).not.toThrow();
  });

  it("refuses a decision without MFA, naming the field", () => {
    const error = (() => {
      try {
        assertStepUp({ required: true, acceptedAcrValues: ["c2"] }, { methods: ["pwd"], context: null });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(StepUpRequiredError);
    expect(error).toMatchObject({ code: "STEP_UP_REQUIRED", field: "authentication" });
    expect((error as Error).message).toContain("acr of c2");
  });

  it("refuses a door without a token (an email link)", () => {
    expect(() => assertStepUp({ required: true, acceptedAcrValues: [] }, undefined)).toThrow(StepUpRequiredError);
  });
});
