import { describe, expect, it } from "vitest";
import { ScimError } from "./errors.ts";
import { booleanField, constantField, filterWhere, idField, textField } from "./filters.ts";

const fields = {
  id: idField(),
  username: textField("email"),
  externalid: textField("externalId", { caseExact: true, required: false }),
  "emails.type": constantField("work"),
  active: booleanField("active"),
};

const nothing = { id: { in: [] } };

function refusal(filter: string): ScimError {
  try {
    filterWhere(filter, fields);
  } catch (error) {
    if (error instanceof ScimError) return error;
    throw error;
  }
  throw new Error(`${filter} was accepted`);
}

describe("filterWhere", () => {
  it("turns Entra's queries into conditions: userName case-insensitive, externalId exact", () => {
    expect(filterWhere('userName eq "Alice@Fabrikam.com"', fields)).toEqual({
      OR: [{ AND: [{ email: { equals: "Alice@Fabrikam.com", mode: "insensitive" } }] }],
    });
    expect(filterWhere('externalId eq "0a21" and active eq "False"', fields)).toEqual({
      OR: [{ AND: [{ externalId: { equals: "0a21" } }, { active: false }] }],
    });
  });

  it("keeps the disjunction of conjunctions, negation and presence", () => {
    expect(filterWhere('userName sw "a" or not (userName ew ".org")', fields)).toEqual({
      OR: [
        { AND: [{ email: { startsWith: "a", mode: "insensitive" } }] },
        { AND: [{ NOT: { email: { endsWith: ".org", mode: "insensitive" } } }] },
      ],
    });
    expect(filterWhere("externalId pr and userName pr", fields)).toEqual({
      OR: [{ AND: [{ NOT: { externalId: null } }, {}] }],
    });
    expect(filterWhere("userName np", fields)).toEqual({ OR: [{ AND: [nothing] }] });
  });

  it("answers an attribute every user has the same way for all: their one address is the work address", () => {
    expect(
      filterWhere('emails[type eq "work"].value eq "x"', { ...fields, "emails.value": textField("email") }),
    ).toEqual({
      OR: [{ AND: [{}, { email: { equals: "x", mode: "insensitive" } }] }],
    });
    expect(filterWhere('emails.type eq "home"', fields)).toEqual({ OR: [{ AND: [nothing] }] });
  });

  it("never lets a value that is no UUID reach the id column", () => {
    expect(filterWhere('id eq "not-a-uuid"', fields)).toEqual({ OR: [{ AND: [nothing] }] });
    expect(filterWhere('id eq "0195F8A2-7C1E-7A00-8B00-000000000001"', fields)).toEqual({
      OR: [{ AND: [{ id: "0195f8a2-7c1e-7a00-8b00-000000000001" }] }],
    });
  });

  it("refuses what it cannot answer with invalidFilter naming the attribute", () => {
    for (const [filter, detail] of [
      ['title eq "CEO"', /^filter: title cannot be filtered on/],
      ["userName eq", /^filter: userName eq needs a value/],
      ["userName gt 5", /^filter: userName gt needs a string value/],
      ['active eq "sometimes"', /^filter: active supports eq and ne with true or false/],
      ['id co "0195"', /^filter: id supports eq, ne and pr/],
      ['userName eq "a" junk', /^filter: Unexpected token/],
      ['"alone"', /^filter: /],
    ] as const) {
      const error = refusal(filter);
      expect(error.status).toBe(400);
      expect(error.scimType).toBe("invalidFilter");
      expect(error.message).toMatch(detail);
    }
  });
});
