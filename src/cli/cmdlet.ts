import { Command, InvalidArgumentError, Option } from "commander";
import type { CredentialStore } from "./auth/credentials.ts";
import type { Api } from "./client.ts";
import { UsageError } from "./errors.ts";
import type { Output, View } from "./output.ts";
import { type CommandLine, listItems, parseHashtable, type Token, type Value } from "./powershell.ts";

// A cmdlet is declared once (PowerShell names, types, help) and becomes a commander
// command. PowerShell's spelling (`-durationhours 4`, `-Dur:4`, `-SystemAccounts a b`)
// is first rewritten to commander's (`--DurationHours=4`), so commander does the
// parsing, validation, conflicts, mandatory checks and help.

type Kind = "text" | "int" | "switch" | "list" | "choice" | "table";

export interface Parameter<T = unknown, Mandatory extends boolean = boolean> {
  kind: Kind;
  description: string;
  mandatory: Mandatory;
  aliases: readonly string[];
  /** Parameters that may not be given together with this one. */
  conflicts: readonly string[];
  /** The value's type as PowerShell help writes it: String, Int32, String[], Manual | Auto. */
  typeName: string;
  parse?(value: string, previous: T | undefined): T;
}

interface ParameterOptions<M extends boolean> {
  mandatory?: M;
  aliases?: string[];
  conflicts?: string[];
}

function parameter<T, M extends boolean>(
  kind: Kind,
  typeName: string,
  description: string,
  options: ParameterOptions<M>,
  parse?: (value: string, previous: T | undefined) => T,
): Parameter<T, M> {
  return {
    kind,
    typeName,
    description,
    mandatory: (options.mandatory ?? false) as M,
    aliases: options.aliases ?? [],
    conflicts: options.conflicts ?? [],
    ...(parse ? { parse } : {}),
  };
}

export function text<const M extends boolean = false>(description: string, options: ParameterOptions<M> = {}) {
  return parameter<string, M>("text", "String", description, options);
}

export function int<const M extends boolean = false>(description: string, options: ParameterOptions<M> = {}) {
  return parameter<number, M>("int", "Int32", description, options, (value) => {
    if (!/^[+-]?\d+$/.test(value.trim())) throw new InvalidArgumentError("must be a whole number.");
    return Number(value);
  });
}

/** A count with PowerShell's `Unlimited` (Exchange's -ResultSize). */
export function resultSize(description: string) {
  return parameter<number, false>("int", "Int32 | Unlimited", description, {}, (value) => {
    if (value.trim().toLowerCase() === "unlimited") return Number.POSITIVE_INFINITY;
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1) {
      throw new InvalidArgumentError("must be a positive whole number or Unlimited.");
    }
    return Number(value);
  });
}

export function switchParam(description: string, options: ParameterOptions<false> = {}) {
  return parameter<boolean, false>("switch", "SwitchParameter", description, options);
}

export function list<const M extends boolean = false>(description: string, options: ParameterOptions<M> = {}) {
  return parameter<string[], M>("list", "String[]", description, options, (value, previous) =>
    // `-SystemAccounts @()` arrives as one empty value: an empty list.
    value === "" ? (previous ?? []) : [...(previous ?? []), value],
  );
}

/** One value of an enum, written in any case (Manual, MANUAL, manual); `values` maps the shown name to the API's. */
export function choice<const V extends string, const M extends boolean = false>(
  values: Record<string, V>,
  description: string,
  options: ParameterOptions<M> = {},
) {
  const names = Object.keys(values);
  return parameter<V, M>("choice", names.join(" | "), description, options, (value) => pick(values, value));
}

/** Several values of an enum: `-RequestStatus Pending,Approved`. */
export function choices<const V extends string>(
  values: Record<string, V>,
  description: string,
  options: ParameterOptions<false> = {},
) {
  const names = Object.keys(values);
  return parameter<V[], false>("list", `${names.join(" | ")}[]`, description, options, (value, previous) => [
    ...(previous ?? []),
    pick(values, value),
  ]);
}

/** A PowerShell hashtable `@{Name='value'}` or a JSON object. */
export function table(description: string) {
  return parameter<Record<string, unknown>, false>("table", "Hashtable", description, {}, (value) => {
    try {
      return parseHashtable(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  });
}

function pick<V extends string>(values: Record<string, V>, value: string): V {
  const wanted = value.trim().toLowerCase();
  for (const [name, apiValue] of Object.entries(values)) {
    if (name.toLowerCase() === wanted || apiValue.toLowerCase() === wanted) return apiValue;
  }
  throw new InvalidArgumentError(`must be one of ${Object.keys(values).join(", ")}.`);
}

// biome-ignore lint/suspicious/noExplicitAny: any parameter type fits a cmdlet's parameter table
export type Parameters = Record<string, Parameter<any>>;

export type ParameterValues<P extends Parameters> = {
  [K in keyof P]: P[K] extends Parameter<infer T, true> ? T : P[K] extends Parameter<infer T> ? T | undefined : never;
};

export interface Cmdlet<P extends Parameters = Parameters> {
  name: string;
  synopsis: string;
  /** Command lines shown in help and the README, without the leading `elevate`. */
  examples: string[];
  parameters: P;
  /** Exactly one of these must be given (e.g. -Task, -Role, -RoleGroup). */
  oneOf?: readonly string[];
  /** What it prints; null for commands whose output is a message, not objects. */
  view: View | null;
  run(values: ParameterValues<P>, context: CmdletContext): Promise<Output>;
}

export interface CmdletContext {
  /** The server's base URL: ELEVATE_URL, else the last one signed in to, else localhost. */
  server: string;
  api: Api;
  store: CredentialStore;
  /** Progress and prompts go to stderr, so stdout carries only the result. */
  inform(message: string): void;
}

export function cmdlet<P extends Parameters>(definition: Cmdlet<P>): Cmdlet<P> {
  return definition;
}

/** Options of every cmdlet that prints objects, like PowerShell's pipeline to Select-Object. */
export const commonParameters = {
  Select: list("Only these properties (`| select Prop1,Prop2`); * for all"),
  ExpandProperty: text("Only the values of this property, one a line (`| select -ExpandProperty Prop`)"),
  Json: switchParam("JSON instead of text: an object, or an array for Get- cmdlets"),
} satisfies Parameters;

export type CommonValues = ParameterValues<typeof commonParameters>;

function allParameters(definition: Cmdlet): Parameters {
  return definition.view ? { ...definition.parameters, ...commonParameters } : definition.parameters;
}

/** A parameter named in any case, by an alias, or by an unambiguous prefix (as PowerShell allows). */
function resolveParameter(definition: Cmdlet, written: string): string | null {
  const parameters = Object.entries(allParameters(definition));
  const wanted = written.toLowerCase();
  const names = ([name, p]: [string, Parameter]) => [name, ...p.aliases].map((n) => n.toLowerCase());
  const exact = parameters.find((entry) => names(entry).includes(wanted));
  if (exact) return exact[0];
  const byPrefix = parameters.filter((entry) => names(entry).some((n) => n.startsWith(wanted)));
  if (byPrefix.length > 1) {
    throw new UsageError(`-${written} is ambiguous: ${byPrefix.map(([name]) => `-${name}`).join(", ")}`);
  }
  return byPrefix[0]?.[0] ?? null;
}

const helpNames = new Set(["?", "h", "help"]);
const truthy = new Set(["$true", "true", "1"]);
const falsy = new Set(["$false", "false", "0"]);

/** Rewrites one cmdlet's PowerShell-style tokens into commander's arguments. */
export function commanderArgs(definition: Cmdlet, line: CommandLine): string[] {
  const parameters = allParameters(definition);
  const args: string[] = [];
  const tokens = [...line.tokens, ...pipelineTokens(line.pipeline)];
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    if ("value" in token) {
      throw new UsageError(`unexpected value '${token.value.text}': name its parameter, e.g. -Identity <value>`);
    }
    if (helpNames.has(token.param.toLowerCase())) {
      args.push("--help");
      continue;
    }
    const name = resolveParameter(definition, token.param);
    if (!name) {
      const known = Object.keys(parameters).map((n) => `-${n}`);
      throw new UsageError(`no parameter -${token.param}; the parameters are ${known.join(", ")}`);
    }
    const spec = parameters[name]!;
    if (spec.kind === "switch") {
      const flag = token.inline?.text.trim().toLowerCase();
      if (flag !== undefined && !truthy.has(flag) && !falsy.has(flag)) {
        throw new UsageError(`-${name} is a switch: -${name}, -${name}:$true or -${name}:$false`);
      }
      if (flag === undefined || truthy.has(flag)) args.push(`--${name}`);
      continue;
    }
    let value: Value | undefined = token.inline;
    if (!value) {
      const next = tokens[index + 1];
      if (next && "value" in next) {
        value = next.value;
        index++;
      }
    }
    // No value: commander reports the missing argument.
    if (!value) {
      args.push(`--${name}`);
      continue;
    }
    if (spec.kind !== "list") {
      if (value.items && value.items.length > 1) {
        throw new UsageError(`-${name} takes one value, not a list`);
      }
      args.push(`--${name}=${value.text}`);
      continue;
    }
    const items = listItems(value);
    // PowerShell hands an array to a native command as separate arguments: `-SystemAccounts a b`.
    while (!token.inline && tokens[index + 1] && "value" in tokens[index + 1]!) {
      const next = tokens[++index] as { value: Value };
      items.push(...listItems(next.value));
    }
    if (items.length === 0) args.push(`--${name}=`);
    for (const item of items) args.push(`--${name}=${item}`);
  }
  return args;
}

/** `| select A,B`, `| Select-Object -Property A`, `| select -ExpandProperty A` as common parameters. */
function pipelineTokens(pipeline: Token[] | null): Token[] {
  if (!pipeline) return [];
  const [command, ...rest] = pipeline;
  const name = command && "value" in command ? command.value.text.toLowerCase() : "";
  if (name !== "select" && name !== "select-object") {
    throw new UsageError("after a pipe only `select <Property>` (Select-Object) is understood");
  }
  const tokens: Token[] = [];
  for (let index = 0; index < rest.length; index++) {
    const token = rest[index]!;
    if ("value" in token) {
      tokens.push({ param: "Select", inline: token.value });
      continue;
    }
    const param = token.param.toLowerCase();
    const value =
      token.inline ??
      (rest[index + 1] && "value" in rest[index + 1]! ? (rest[++index] as { value: Value }).value : undefined);
    if (!value) throw new UsageError(`select: -${token.param} needs a value`);
    if ("property".startsWith(param)) tokens.push({ param: "Select", inline: value });
    else if ("expandproperty".startsWith(param)) tokens.push({ param: "ExpandProperty", inline: value });
    else throw new UsageError(`select: only -Property and -ExpandProperty are understood, not -${token.param}`);
  }
  return tokens;
}

function optionFor(name: string, spec: Parameter): Option {
  // Lists arrive as one `--Name=item` per item, which the parser accumulates.
  const flags = spec.kind === "switch" ? `--${name}` : `--${name} <${spec.typeName}>`;
  const aliases = spec.aliases.length ? ` (alias: ${spec.aliases.map((a) => `-${a}`).join(", ")})` : "";
  const option = new Option(flags, `${spec.description}${aliases}`);
  if (spec.parse) option.argParser(spec.parse);
  if (spec.mandatory) option.makeOptionMandatory();
  if (spec.conflicts.length) option.conflicts([...spec.conflicts]);
  return option;
}

/** PowerShell's syntax line: `(-Task <String> | -Role <String>) -Reason <String> [-DurationHours <Int32>]`. */
export function syntax(definition: Cmdlet): string {
  const oneOf = definition.oneOf ?? [];
  const term = (name: string, spec: Parameter) => (spec.kind === "switch" ? `-${name}` : `-${name} <${spec.typeName}>`);
  const terms = (parameters: Parameters) =>
    Object.entries(parameters)
      .filter(([name]) => !oneOf.includes(name))
      .map(([name, spec]) => (spec.mandatory ? term(name, spec) : `[${term(name, spec)}]`));
  return [
    ...(oneOf.length ? [`(${oneOf.map((name) => term(name, definition.parameters[name]!)).join(" | ")})`] : []),
    ...terms(definition.parameters),
    ...(definition.view ? terms(commonParameters) : []),
  ].join(" ");
}

/** The commander command for a cmdlet; `action` receives the parsed values. */
export function commandFor(definition: Cmdlet, action: (values: Record<string, unknown>) => Promise<void>): Command {
  const command = new Command(definition.name).description(definition.synopsis).usage(syntax(definition));
  for (const [name, spec] of Object.entries(definition.parameters)) command.addOption(optionFor(name, spec));
  if (definition.view) {
    for (const [name, spec] of Object.entries(commonParameters)) command.addOption(optionFor(name, spec));
  }
  command.helpOption("-?, --help", "Show this help");
  if (definition.examples.length) {
    command.addHelpText("after", `\nExamples:\n${definition.examples.map((e) => `  elevate ${e}`).join("\n")}`);
  }
  command.action(async (values: Record<string, unknown>) => {
    if (definition.oneOf) {
      const given = definition.oneOf.filter((name) => values[name] !== undefined);
      if (given.length !== 1) {
        throw new UsageError(`give one of ${definition.oneOf.map((n) => `-${n}`).join(", ")}`);
      }
    }
    await action(values);
  });
  return command;
}
