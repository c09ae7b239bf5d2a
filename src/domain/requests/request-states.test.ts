import { describe, expect, it } from "vitest";
import { authorizationTransitions } from "../authorizations/authorization-states.ts";
import { assertTransition, requestTransitions } from "./request-states.ts";

describe("state machines", () => {
  it("lets a PENDING request end in exactly one of the terminal states", () => {
    for (const to of ["APPROVED", "DENIED", "EXPIRED", "CANCELED"] as const) {
      expect(() => assertTransition(requestTransitions, "PENDING", to)).not.toThrow();
      for (const next of ["PENDING", "APPROVED", "DENIED", "EXPIRED", "CANCELED"] as const) {
        expect(() => assertTransition(requestTransitions, to, next)).toThrow(/illegal transition/);
      }
    }
  });

  it("lets an ACTIVE authorization end or be revoked, once", () => {
    expect(() => assertTransition(authorizationTransitions, "ACTIVE", "REVOKED")).not.toThrow();
    expect(() => assertTransition(authorizationTransitions, "ACTIVE", "ENDED")).not.toThrow();
    expect(() => assertTransition(authorizationTransitions, "REVOKED", "ENDED")).toThrow();
    expect(() => assertTransition(authorizationTransitions, "ENDED", "ACTIVE")).toThrow();
  });
});
