import { describe, expect, it } from "vitest";
import { isSpent, linkState } from "./decide-by-link.ts";

const now = new Date("2026-11-26T12:00:00Z");
const later = new Date("2026-11-26T13:00:00Z");
const earlier = new Date("2026-11-26T11:00:00Z");
const link = (changes: { usedAt?: Date | null; expiresAt?: Date; status?: string; requestExpiresAt?: Date } = {}) => ({
  usedAt: changes.usedAt ?? null,
  expiresAt: changes.expiresAt ?? later,
  request: { status: changes.status ?? "PENDING", expiresAt: changes.requestExpiresAt ?? later },
});

describe("linkState", () => {
  it("is open while the request waits, the link is unused and neither has expired", () => {
    expect(linkState(link(), now)).toBe("open");
  });

  it("says settled first: a decided request shows who decided, whatever the link", () => {
    for (const status of ["APPROVED", "DENIED", "EXPIRED", "CANCELED"]) {
      expect(linkState(link({ status, usedAt: earlier, expiresAt: earlier }), now)).toBe("settled");
    }
  });

  it("says used for a spent link of a request still waiting (another approval is needed)", () => {
    expect(linkState(link({ usedAt: earlier }), now)).toBe("used");
  });

  it("says expired when the request's or the link's own expiry has come", () => {
    expect(linkState(link({ requestExpiresAt: now }), now)).toBe("expired");
    expect(linkState(link({ expiresAt: earlier }), now)).toBe("expired");
  });

  it("tells spent links from the others", () => {
    expect(["settled", "used", "expired", "open", "unknown", "decided"].map((kind) => isSpent({ kind }))).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
