import { describe, expect, it } from "vitest";
import { groupExtensionId, keptAttributes, keptOperations, keptResource, SCIMMY } from "./schemas.ts";

const users = SCIMMY.Schemas.User.definition;
const groups = SCIMMY.Schemas.Group.definition;

describe("Entra ID's requests as Elevate applies them", () => {
  it("reads the strings True and False as booleans wherever the schema says boolean", () => {
    expect(keptOperations(users, keptAttributes.User, [{ op: "Replace", path: "active", value: "False" }])).toEqual([
      { op: "Replace", path: "active", value: false },
    ]);
    expect(keptOperations(users, keptAttributes.User, [{ op: "replace", value: { active: "TRUE" } }])).toEqual([
      { op: "replace", value: { active: true } },
    ]);
    expect(keptResource(users, keptAttributes.User, { userName: "a@b.example", active: "false" })).toEqual({
      userName: "a@b.example",
      active: false,
    });
  });

  it("drops what Elevate does not keep, so a filtered path on it cannot fail the request", () => {
    const operations = keptOperations(users, keptAttributes.User, [
      { op: "Add", path: 'phoneNumbers[type eq "work"].value', value: "+1 555 0100" },
      { op: "Replace", path: 'emails[type eq "work"].value', value: "x@b.example" },
      { op: "Replace", path: "name.familyName", value: "Unua" },
      {
        op: "replace",
        value: {
          displayName: "Bjfe",
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7",
        },
      },
      { op: "replace", value: { title: "CEO" } },
    ]);
    expect(operations).toEqual([
      { op: "Replace", path: "name.familyName", value: "Unua" },
      { op: "replace", value: { displayName: "Bjfe" } },
    ]);
    expect(
      keptResource(users, keptAttributes.User, {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: "a@b.example",
        addresses: [{ type: "work", primary: "True" }],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { employeeNumber: "7" },
      }),
    ).toEqual({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "a@b.example" });
  });

  it("keeps a group's members, in every path form, and its mail extension", () => {
    const operations = [
      { op: "Remove", path: 'members[value eq "u1"]' },
      { op: "Add", path: "members", value: [{ $ref: null, value: "u2" }] },
      { op: "Replace", path: `${groupExtensionId}:mail`, value: "g@b.example" },
    ];
    expect(keptOperations(groups, keptAttributes.Group, operations)).toEqual(operations);
    expect(
      keptResource(groups, keptAttributes.Group, { displayName: "G", [groupExtensionId]: { mail: "g@b.example" } }),
    ).toEqual({ displayName: "G", [groupExtensionId]: { mail: "g@b.example" } });
  });
});
