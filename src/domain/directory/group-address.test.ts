import { describe, expect, it } from "vitest";
import { derivedGroupAddress } from "./group-address.ts";

describe("derivedGroupAddress", () => {
  it("makes an address of the name: lower case, accents dropped, other runs as one dash", () => {
    expect(derivedGroupAddress("Helpdesk Tier 2 (EU)")).toBe("helpdesk-tier-2-eu@directory.invalid");
    expect(derivedGroupAddress("Équipe d'approbation")).toBe("equipe-d-approbation@directory.invalid");
  });

  it("stays a valid address for names with nothing to keep, and for long ones", () => {
    expect(derivedGroupAddress("— ✓ —")).toBe("group@directory.invalid");
    const long = derivedGroupAddress(`${"a".repeat(63)} b`);
    expect(long).toBe(`${"a".repeat(63)}@directory.invalid`);
  });
});
