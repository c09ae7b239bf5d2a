import { describe, expect, it } from "vitest";
import { encodeGlobalId } from "../global-id.ts";
import { auditFilter } from "./audit-filter.ts";

describe("auditFilter", () => {
  const organizationId = "0194a1b2-0000-7000-8000-000000000001";
  // Read as base64 this UUID decodes into bytes with a colon, like one UUID in seven.
  const subject = "7a99162f-dc13-46cd-8a64-85f9591c41b6";

  it("takes a bare UUID subject as it is, and a global ID as the ID it names", () => {
    for (const subjectId of [subject, subject.toUpperCase(), encodeGlobalId("AccessRequest", subject)]) {
      expect(auditFilter(organizationId, { subjectId })).toEqual({ AND: [{ organizationId }, { subjectId: subject }] });
    }
  });
});
