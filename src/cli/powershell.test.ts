import { describe, expect, it } from "vitest";
import { listItems, parseArgv, parseHashtable, parseLine } from "./powershell.ts";

describe("a PowerShell line passed whole", () => {
  it("resolves quotes, lists and the pipe to select", () => {
    const line = parseLine(
      "Enable-ElevatedAccessControl -AdminGroup 'pamapprovers@fabrikam.com' -SystemAccounts @('sys1@fabrikam.com','sys2@fabrikam.com')",
    );
    expect(line.tokens).toEqual([
      { value: { text: "Enable-ElevatedAccessControl", items: ["Enable-ElevatedAccessControl"] } },
      { param: "AdminGroup" },
      { value: { text: "pamapprovers@fabrikam.com", items: ["pamapprovers@fabrikam.com"] } },
      { param: "SystemAccounts" },
      { value: { text: "sys1@fabrikam.com,sys2@fabrikam.com", items: ["sys1@fabrikam.com", "sys2@fabrikam.com"] } },
    ]);
    expect(line.pipeline).toBeNull();
  });

  it("keeps a backslash, commas inside quotes and '' as a quote", () => {
    const { tokens } = parseLine(
      `New-ElevatedAccessRequest -Task 'Exchange\\New-MoveRequest' -Reason 'It''s broken, fix it'`,
    );
    expect(tokens[2]).toEqual({ value: { text: "Exchange\\New-MoveRequest", items: ["Exchange\\New-MoveRequest"] } });
    expect(tokens[4]).toEqual({ value: { text: "It's broken, fix it", items: ["It's broken, fix it"] } });
  });

  it("reads double quotes with backtick escapes, -Name:value and comma lists with spaces", () => {
    const { tokens } = parseLine(`X -Comment "say \`"ok\`"" -DurationHours:4 -RequestStatus Pending, 'Approved'`);
    expect(tokens.slice(1)).toEqual([
      { param: "Comment" },
      { value: { text: 'say "ok"', items: ['say "ok"'] } },
      { param: "DurationHours", inline: { text: "4", items: ["4"] } },
      { param: "RequestStatus" },
      { value: { text: "Pending,Approved", items: ["Pending", "Approved"] } },
    ]);
  });

  it("splits off the pipeline", () => {
    const line = parseLine(
      "Get-ElevatedAccessRequest -Identity 28560ed0-419d-4cc3-8f5b-603911cbd450 | select RequestStatus",
    );
    expect(line.tokens).toHaveLength(3);
    expect(line.pipeline).toEqual([
      { value: { text: "select", items: ["select"] } },
      { value: { text: "RequestStatus", items: ["RequestStatus"] } },
    ]);
  });

  it("keeps a hashtable literal whole", () => {
    const { tokens } = parseLine("Test-ElevatedAccess -Parameters @{Identity='ceo@fabrikam.com'; Force=$true}");
    expect(tokens[2]).toEqual({
      value: {
        text: "@{Identity='ceo@fabrikam.com'; Force=$true}",
        items: ["@{Identity='ceo@fabrikam.com'; Force=$true}"],
      },
    });
  });

  it("refuses unterminated quotes and arrays", () => {
    expect(() => parseLine("X -Reason 'oops")).toThrow(/unterminated ' quote/);
    expect(() => parseLine("X -SystemAccounts @('a'")).toThrow(/unterminated @\(/);
  });
});

describe("arguments a shell already split", () => {
  it("tells parameters from values", () => {
    expect(parseArgv(["Get-ElevatedAccessRequest", "-identity", "abc", "--Json", "-DurationHours:4", "-5"])).toEqual({
      tokens: [
        { value: { text: "Get-ElevatedAccessRequest" } },
        { param: "identity" },
        { value: { text: "abc" } },
        { param: "Json" },
        { param: "DurationHours", inline: { text: "4" } },
        { value: { text: "-5" } },
      ],
      pipeline: null,
    });
  });

  it("takes a quoted | as the pipe", () => {
    expect(parseArgv(["Get-ElevatedAccessRequest", "|", "select", "RequestStatus"]).pipeline).toEqual([
      { value: { text: "select" } },
      { value: { text: "RequestStatus" } },
    ]);
  });

  it("reads lists in every spelling shells leave them in", () => {
    // bash with extglob (Debian's interactive default) drops the quotes but keeps @( ).
    expect(listItems({ text: "@(sys1@fabrikam.com,sys2@fabrikam.com)" })).toEqual([
      "sys1@fabrikam.com",
      "sys2@fabrikam.com",
    ]);
    expect(listItems({ text: "@('sys1@fabrikam.com','sys2@fabrikam.com')" })).toEqual([
      "sys1@fabrikam.com",
      "sys2@fabrikam.com",
    ]);
    expect(listItems({ text: "a,b" })).toEqual(["a", "b"]);
    expect(listItems({ text: "@()" })).toEqual([]);
    expect(listItems({ text: "single@fabrikam.com" })).toEqual(["single@fabrikam.com"]);
  });
});

describe("hashtables", () => {
  it("reads PowerShell's literal and JSON", () => {
    expect(parseHashtable("@{Identity='ceo@fabrikam.com'; Count=2; Force=$true; Note=$null}")).toEqual({
      Identity: "ceo@fabrikam.com",
      Count: 2,
      Force: true,
      Note: null,
    });
    expect(parseHashtable('{"Identity":"ceo@fabrikam.com"}')).toEqual({ Identity: "ceo@fabrikam.com" });
    expect(() => parseHashtable("Identity=ceo")).toThrow(/expected @\{Name='value'/);
  });
});
