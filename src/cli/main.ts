import { Command, CommanderError } from "commander";
import { CredentialStore, defaultServerUrl, normalizeUrl } from "./auth/credentials.ts";
import { tokenSource } from "./auth/sign-in.ts";
import { createApi } from "./client.ts";
import { type Cmdlet, type CmdletContext, type CommonValues, commanderArgs, commandFor } from "./cmdlet.ts";
import { cmdlets } from "./cmdlets/index.ts";
import { ApiError, CliError, exitCodes, UsageError } from "./errors.ts";
import { checkFormatting, render } from "./output.ts";
import { type CommandLine, parseArgv, parseLine } from "./powershell.ts";

export interface Io {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const programHelp = `
A PowerShell line may also be passed whole, in quotes:
  elevate "Get-ElevatedAccessRequest -Identity <GUID> | select RequestStatus"

Parameters: any case, -Name value or -Name:value, lists as a,b or @('a','b'),
enum values in any case. Common: -Select <Property[]>, -ExpandProperty <Property>, -Json.

Environment:
  ELEVATE_URL         the server (default: the last one signed in to, else ${defaultServerUrl})
  ELEVATE_TOKEN       a bearer token to use instead of the stored sign-in (automation)
  ELEVATE_CONFIG_DIR  where sign-ins are kept (default: ~/.config/elevate)

Exit codes: 0 ok, 1 unexpected, 2 bad command line, 3 not signed in, 4 server unreachable,
5 a Test- cmdlet said no, 10-20 the API's errors (VALIDATION 10, NOT_FOUND 11, FORBIDDEN 12,
CONFLICT 13, LIMIT_EXCEEDED 14, CONTROL_DISABLED 15, NO_POLICY 16, SELF_APPROVAL 17,
NOT_AN_APPROVER 18, ALREADY_DECIDED 19, REQUEST_EXPIRED 20).`;

/** Commander's messages name options `--Task <String>`; PowerShell users write `-Task`. */
function powershellSpelling(message: string): string {
  return message.replace(/'--(\w+)(?: <[^>]*>)?'/g, "-$1").replace(/(^|[\s(])--(?!help\b)(\w+)/g, "$1-$2");
}

function findCmdlet(name: string): Cmdlet | undefined {
  const wanted = name.toLowerCase();
  return cmdlets.find((c) => c.name.toLowerCase() === wanted);
}

/** Runs one command line; answers the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let json = false;
  let commandName = "elevate";
  try {
    // One argument with spaces is a whole PowerShell line; otherwise the shell split it.
    const line: CommandLine = argv.length === 1 && /\s/.test(argv[0]!) ? parseLine(argv[0]!) : parseArgv(argv);
    const [first, ...rest] = line.tokens;
    const store = new CredentialStore(io.env);
    const server = normalizeUrl(io.env.ELEVATE_URL || (await store.currentUrl()) || defaultServerUrl);
    let exitCode: number = exitCodes.ok;

    const program = new Command("elevate")
      .usage("<Cmdlet> [-Parameter value ...]")
      .description("Elevate: just-in-time privileged access, with Exchange Management PowerShell's cmdlets")
      .helpOption("-?, --help", "Show help")
      .helpCommand("help [cmdlet]", "Show a cmdlet's parameters and examples")
      .addHelpText("after", programHelp)
      .exitOverride()
      .configureOutput({
        writeOut: io.stdout,
        writeErr: io.stderr,
        outputError: (message, write) =>
          write(`${commandName}: USAGE: ${powershellSpelling(message.replace(/^error: /, ""))}`),
      })
      .configureHelp({
        optionTerm: (option) => (option.long === "--help" ? "-?, --help" : option.flags.replace(/^--/, "-")),
        subcommandTerm: (command) => command.name(),
      })
      .showHelpAfterError("(elevate help <Cmdlet> lists its parameters)");

    for (const definition of cmdlets) {
      const command = commandFor(definition, async (values) => {
        const common = values as CommonValues;
        json = common.Json ?? false;
        const formatting = definition.view
          ? checkFormatting(definition.view, {
              ...(common.Select ? { select: common.Select } : {}),
              ...(common.ExpandProperty ? { expandProperty: common.ExpandProperty } : {}),
              json,
            })
          : {};
        const context: CmdletContext = {
          server,
          store,
          api: createApi(server, tokenSource(server, io.env, store)),
          inform: (message) => io.stderr(`${message}\n`),
        };
        const output = await definition.run(values as never, context);
        io.stdout(render(output, definition.view, formatting));
        if (output.kind === "objects" && output.exitCode !== undefined) exitCode = output.exitCode;
      });
      program.addCommand(command);
      // Every command inherits the program's output and error handling.
      command.exitOverride().configureOutput(program.configureOutput()).configureHelp(program.configureHelp());
      command.showHelpAfterError(`(elevate help ${definition.name} lists its parameters)`);
    }

    let args: string[];
    if (!first) args = ["help"];
    else if ("param" in first) args = [`--${first.param === "?" ? "help" : first.param}`];
    else {
      const named = findCmdlet(first.value.text);
      if (named) {
        commandName = named.name;
        args = [named.name, ...commanderArgs(named, { tokens: rest, pipeline: line.pipeline })];
      } else if (["help", "get-help"].includes(first.value.text.toLowerCase())) {
        const topic = rest[0] && "value" in rest[0] ? rest[0].value.text : undefined;
        args = ["help", ...(topic ? [findCmdlet(topic)?.name ?? topic] : [])];
      } else args = [first.value.text];
    }
    await program.parseAsync(args, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      const helpShown = error.code === "commander.helpDisplayed" || error.code === "commander.help";
      return helpShown ? exitCodes.ok : exitCodes.usage;
    }
    if (error instanceof CliError) {
      const field = error instanceof ApiError && error.field ? error.field : undefined;
      io.stderr(
        json
          ? `${JSON.stringify({ error: { code: error.code, message: error.message, ...(field ? { field } : {}) } })}\n`
          : `${commandName}: ${error.code}: ${error.message}\n`,
      );
      if (error instanceof UsageError) {
        io.stderr(
          commandName === "elevate"
            ? "(elevate help lists the cmdlets)\n"
            : `(elevate help ${commandName} lists its parameters)\n`,
        );
      }
      return error.exitCode;
    }
    io.stderr(`${commandName}: ${(error as Error).stack ?? String(error)}\n`);
    return exitCodes.unexpected;
  }
}
