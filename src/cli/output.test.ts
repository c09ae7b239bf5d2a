import { describe, expect, it } from "vitest";
import { checkFormatting, many, one, render } from "./output.ts";

const view = {
  properties: ["Identity", "RequestStatus", "Decisions", "Enabled"],
  table: ["Identity", "RequestStatus"],
};
const row = {
  Identity: "28560ed0-419d-4cc3-8f5b-603911cbd450",
  RequestStatus: "Pending",
  Decisions: [{ Approver: "a@x", Decision: "Approved" }],
  Enabled: true,
};

describe("PowerShell-like output", () => {
  it("prints one object as a property list", () => {
    expect(render(one(row), view, {})).toBe(
      [
        "",
        "Identity      : 28560ed0-419d-4cc3-8f5b-603911cbd450",
        "RequestStatus : Pending",
        "Decisions     : {@{Approver=a@x; Decision=Approved}}",
        "Enabled       : True",
        "",
        "",
      ].join("\n"),
    );
  });

  it("prints several as a table of the view's columns, and a selection of four or fewer as a table", () => {
    const other = { ...row, Identity: "b", RequestStatus: "Approved" };
    expect(render(many([row, other]), view, {})).toBe(
      [
        "",
        "Identity                             RequestStatus",
        "--------                             -------------",
        "28560ed0-419d-4cc3-8f5b-603911cbd450 Pending",
        "b                                    Approved",
        "",
        "",
      ].join("\n"),
    );
    expect(render(many([row]), view, checkFormatting(view, { select: ["requeststatus"] }))).toBe(
      "\nRequestStatus\n-------------\nPending\n\n",
    );
  });

  it("prints JSON: an object, or an array for collections, with the selected properties", () => {
    expect(JSON.parse(render(one(row), view, { json: true }))).toEqual(row);
    expect(JSON.parse(render(many([row]), view, { json: true, select: ["RequestStatus"] }))).toEqual([
      { RequestStatus: "Pending" },
    ]);
    expect(render(many([]), view, { json: true })).toBe("[]\n");
  });

  it("expands one property's values, one a line", () => {
    expect(render(many([row]), view, { expandProperty: "Identity" })).toBe("28560ed0-419d-4cc3-8f5b-603911cbd450\n");
  });

  it("refuses properties the object does not have", () => {
    expect(() => checkFormatting(view, { select: ["Status"] })).toThrow(
      "no property Status; the properties are Identity, RequestStatus, Decisions, Enabled",
    );
    expect(checkFormatting(view, { select: ["*"] }).select).toEqual(view.properties);
  });
});
