import { describe, expect, it } from "vitest";
import { commanderArgs } from "./cmdlet.ts";
import { cmdlets } from "./cmdlets/index.ts";
import { type CommandLine, parseArgv, parseLine } from "./powershell.ts";

// The seed's lines mean the same whether PowerShell syntax reaches the command whole
// (one quoted argument), split by bash (extglob on, as Debian's interactive shells
// have it), or split by PowerShell itself (arrays become separate arguments).

function argsOf(line: CommandLine): string[] {
  const [name, ...tokens] = line.tokens;
  const wanted = name && "value" in name ? name.value.text.toLowerCase() : "";
  const definition = cmdlets.find((c) => c.name.toLowerCase() === wanted);
  if (!definition) throw new Error(`no cmdlet ${wanted}`);
  return [definition.name, ...commanderArgs(definition, { tokens, pipeline: line.pipeline })];
}

const guid = "28560ed0-419d-4cc3-8f5b-603911cbd450";
const seed: { line: string; bash: string[]; powershell?: string[] }[] = [
  {
    line: "Enable-ElevatedAccessControl -AdminGroup 'pamapprovers@fabrikam.com' -SystemAccounts @('sys1@fabrikam.com','sys2@fabrikam.com')",
    bash: [
      "Enable-ElevatedAccessControl",
      "-AdminGroup",
      "pamapprovers@fabrikam.com",
      "-SystemAccounts",
      "@(sys1@fabrikam.com,sys2@fabrikam.com)",
    ],
    powershell: [
      "Enable-ElevatedAccessControl",
      "-AdminGroup",
      "pamapprovers@fabrikam.com",
      "-SystemAccounts",
      "sys1@fabrikam.com",
      "sys2@fabrikam.com",
    ],
  },
  {
    line: "New-ElevatedAccessApprovalPolicy -Task 'Exchange\\New-MoveRequest' -ApprovalType Manual -ApproverGroup 'mbmanagers@fabrikam.com'",
    bash: [
      "New-ElevatedAccessApprovalPolicy",
      "-Task",
      "Exchange\\New-MoveRequest",
      "-ApprovalType",
      "Manual",
      "-ApproverGroup",
      "mbmanagers@fabrikam.com",
    ],
  },
  {
    line: "New-ElevatedAccessRequest -Task 'Exchange\\New-MoveRequest' -Reason 'Attempting to fix the user mailbox error' -DurationHours 4",
    bash: [
      "New-ElevatedAccessRequest",
      "-Task",
      "Exchange\\New-MoveRequest",
      "-Reason",
      "Attempting to fix the user mailbox error",
      "-DurationHours",
      "4",
    ],
  },
  {
    line: `Get-ElevatedAccessRequest -Identity ${guid} | select RequestStatus`,
    bash: ["Get-ElevatedAccessRequest", "-Identity", guid, "-Select", "RequestStatus"],
  },
  {
    line: `Approve-ElevatedAccessRequest -RequestId ${guid} -Comment 'ok'`,
    bash: ["Approve-ElevatedAccessRequest", "-RequestId", guid, "-Comment", "ok"],
  },
  {
    line: `Deny-ElevatedAccessRequest -RequestId ${guid} -Comment 'no'`,
    bash: ["Deny-ElevatedAccessRequest", "-RequestId", guid, "-Comment", "no"],
  },
  {
    line: `Remove-ElevatedAccessApprovalPolicy -Identity ${guid}`,
    bash: ["Remove-ElevatedAccessApprovalPolicy", "-Identity", guid],
  },
  { line: "Disable-ElevatedAccessControl", bash: ["Disable-ElevatedAccessControl"] },
];

describe("the seed's lines", () => {
  it.each(seed)("$line", ({ line, bash, powershell }) => {
    const expected = argsOf(parseArgv(bash));
    expect(argsOf(parseLine(line))).toEqual(expected);
    if (powershell) expect(argsOf(parseArgv(powershell))).toEqual(expected);
  });

  it("become the options commander parses", () => {
    expect(argsOf(parseLine(seed[0]!.line))).toEqual([
      "Enable-ElevatedAccessControl",
      "--AdminGroup=pamapprovers@fabrikam.com",
      "--SystemAccounts=sys1@fabrikam.com",
      "--SystemAccounts=sys2@fabrikam.com",
    ]);
    expect(argsOf(parseLine(seed[3]!.line))).toEqual([
      "Get-ElevatedAccessRequest",
      `--Identity=${guid}`,
      "--Select=RequestStatus",
    ]);
  });
});
