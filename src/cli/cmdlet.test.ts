import { describe, expect, it } from "vitest";
import { choice, cmdlet, commanderArgs, int, list, switchParam, syntax, text } from "./cmdlet.ts";
import { parseArgv, parseLine } from "./powershell.ts";

const example = cmdlet({
  name: "New-Example",
  synopsis: "An example",
  examples: [],
  parameters: {
    Task: text("a task", { conflicts: ["Role"] }),
    Role: text("a role", { conflicts: ["Task"] }),
    Reason: text("why", { mandatory: true }),
    DurationHours: int("hours"),
    Debug: switchParam("debug"),
    SystemAccounts: list("accounts"),
    ApprovalType: choice({ Manual: "MANUAL", Auto: "AUTO" }, "type"),
  },
  oneOf: ["Task", "Role"],
  view: { properties: ["A"], table: ["A"] },
  run: async () => ({ kind: "message", text: "" }),
});

const fromArgv = (...args: string[]) => commanderArgs(example, parseArgv(args));

describe("PowerShell parameters to commander's", () => {
  it("matches names in any case, by alias-free prefix, and -Name:value", () => {
    expect(fromArgv("-task", "T", "-REASON", "why", "-Dur", "4", "-approvaltype:AUTO")).toEqual([
      "--Task=T",
      "--Reason=why",
      "--DurationHours=4",
      "--ApprovalType=AUTO",
    ]);
  });

  it("refuses an ambiguous prefix and an unknown name", () => {
    expect(() => fromArgv("-D", "4")).toThrow("-D is ambiguous: -DurationHours, -Debug");
    expect(() => fromArgv("-Foo", "x")).toThrow(/no parameter -Foo; the parameters are -Task, -Role/);
  });

  it("passes lists as one option per item, from every spelling", () => {
    expect(fromArgv("-SystemAccounts", "@(a@x,b@x)")).toEqual(["--SystemAccounts=a@x", "--SystemAccounts=b@x"]);
    expect(fromArgv("-SystemAccounts", "a@x,b@x")).toEqual(["--SystemAccounts=a@x", "--SystemAccounts=b@x"]);
    // PowerShell hands an array to a native command as separate arguments.
    expect(fromArgv("-SystemAccounts", "a@x", "b@x", "-Debug")).toEqual([
      "--SystemAccounts=a@x",
      "--SystemAccounts=b@x",
      "--Debug",
    ]);
    expect(fromArgv("-SystemAccounts", "@()")).toEqual(["--SystemAccounts="]);
  });

  it("keeps commas in scalar values, and values starting with - after a colon", () => {
    expect(fromArgv("-Reason", "Fix it, now")).toEqual(["--Reason=Fix it, now"]);
    expect(fromArgv("-Reason:-5 degrees")).toEqual(["--Reason=-5 degrees"]);
  });

  it("reads switches and their $true/$false forms", () => {
    expect(fromArgv("-Debug")).toEqual(["--Debug"]);
    expect(fromArgv("-Debug:$true")).toEqual(["--Debug"]);
    expect(fromArgv("-Debug:$false")).toEqual([]);
    expect(() => fromArgv("-Debug:maybe")).toThrow(/is a switch/);
  });

  it("maps help requests and the select pipeline", () => {
    expect(fromArgv("-?")).toEqual(["--help"]);
    expect(commanderArgs(example, parseLine("-Reason x | select A, B"))).toEqual([
      "--Reason=x",
      "--Select=A",
      "--Select=B",
    ]);
    expect(commanderArgs(example, parseLine("-Reason x | Select-Object -ExpandProperty A"))).toEqual([
      "--Reason=x",
      "--ExpandProperty=A",
    ]);
    expect(() => commanderArgs(example, parseLine("-Reason x | fl"))).toThrow(/only `select <Property>`/);
  });

  it("refuses a list for a scalar and a value without a parameter", () => {
    expect(() => commanderArgs(example, parseLine("-Reason a,b"))).toThrow("-Reason takes one value, not a list");
    expect(() => fromArgv("stray")).toThrow(/unexpected value 'stray'/);
  });

  it("writes PowerShell's syntax line", () => {
    expect(syntax(example)).toBe(
      "(-Task <String> | -Role <String>) -Reason <String> [-DurationHours <Int32>] [-Debug] [-SystemAccounts <String[]>] [-ApprovalType <Manual | Auto>] [-Select <String[]>] [-ExpandProperty <String>] [-Json]",
    );
  });
});
