import { UsageError } from "./errors.ts";

// The subset of PowerShell's command syntax that Exchange admins' lines use, so those
// lines run as written: `-Param value`, `-Param:value`, 'single' and "double" quotes,
// `@('a','b')` and `a,b` lists, `@{Key='value'}` tables and a trailing `| select Prop`.

/** A value as given. `items` are its list elements when PowerShell syntax made them explicit. */
export interface Value {
  text: string;
  items?: string[];
}

export type Token = { param: string; inline?: Value } | { value: Value };

export interface CommandLine {
  tokens: Token[];
  /** The command after a `|`, e.g. `select RequestStatus`, as tokens of its own. */
  pipeline: Token[] | null;
}

const parameterArg = /^-{1,2}([A-Za-z?][\w-]*)(?::([\s\S]*))?$/;

/** Arguments as a shell passed them: quoting is already resolved, lists may still be `a,b` or `@(a,b)`. */
export function parseArgv(args: readonly string[]): CommandLine {
  const tokens: Token[] = [];
  for (const [index, arg] of args.entries()) {
    // A quoted '|' stands for PowerShell's pipe, which other shells keep for themselves.
    if (arg === "|") return { tokens, pipeline: parseArgv(args.slice(index + 1)).tokens };
    const match = parameterArg.exec(arg);
    if (!match) tokens.push({ value: { text: arg } });
    else if (match[2] === undefined) tokens.push({ param: match[1]! });
    else tokens.push({ param: match[1]!, inline: { text: match[2] } });
  }
  return { tokens, pipeline: null };
}

/** A whole PowerShell line passed as one argument, e.g. `elevate "Get-ElevatedAccessRequest -Identity <guid> | select RequestStatus"`. */
export function parseLine(line: string): CommandLine {
  const scanner = new Scanner(line);
  const segments: Token[][] = [[]];
  for (;;) {
    scanner.skipSpace();
    if (scanner.done()) break;
    if (scanner.peek() === "|") {
      scanner.pos++;
      segments.push([]);
      continue;
    }
    segments.at(-1)!.push(readToken(scanner));
  }
  if (segments.length > 2) throw new UsageError("only one pipe is understood: `| select <Property>`");
  return { tokens: segments[0]!, pipeline: segments[1] ?? null };
}

/** The elements of a list value: `a,b`, `'a', 'b'`, `@('a','b')`, `@(a,b)` (bash's extglob keeps it, unquoted), `@()`. */
export function listItems(value: Value): string[] {
  if (value.items) return value.items;
  const items: string[] = [];
  for (const token of parseLine(value.text).tokens) {
    if ("value" in token) items.push(...(token.value.items ?? [token.value.text]));
    else throw new UsageError(`not a list element: -${token.param}`);
  }
  return items;
}

/** A hashtable literal `@{Identity='ceo@fabrikam.com'; Force=$true}` (or a JSON object) as an object. */
export function parseHashtable(text: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      const value: unknown = JSON.parse(trimmed);
      if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // Reported below with the expected forms.
    }
  }
  if (!trimmed.startsWith("@{") || !trimmed.endsWith("}")) {
    throw new UsageError(`expected @{Name='value'; ...} or a JSON object, got ${text}`);
  }
  const scanner = new Scanner(trimmed.slice(2, -1));
  const table: Record<string, unknown> = {};
  for (;;) {
    scanner.skipSpace(";");
    if (scanner.done()) return table;
    const key = readElement(scanner, "=;").text;
    scanner.skipSpace();
    if (scanner.peek() !== "=") throw new UsageError(`expected = after ${key} in ${text}`);
    scanner.pos++;
    scanner.skipSpace();
    const element = readElement(scanner, ";");
    table[key] = element.quoted ? element.text : scalar(element.text);
  }
}

function scalar(text: string): unknown {
  const lower = text.toLowerCase();
  if (lower === "$true") return true;
  if (lower === "$false") return false;
  if (lower === "$null") return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

class Scanner {
  pos = 0;
  constructor(readonly source: string) {}
  done(): boolean {
    return this.pos >= this.source.length;
  }
  peek(offset = 0): string | undefined {
    return this.source[this.pos + offset];
  }
  rest(): string {
    return this.source.slice(this.pos);
  }
  skipSpace(also = ""): void {
    while (!this.done() && (/\s/.test(this.peek()!) || also.includes(this.peek()!))) this.pos++;
  }
}

const parameterAt = /^-{1,2}([A-Za-z?][\w-]*)(?::|(?=[\s|]|$))/;

function readToken(scanner: Scanner): Token {
  const match = parameterAt.exec(scanner.rest());
  if (!match) return { value: readValue(scanner) };
  scanner.pos += match[0].length;
  if (!match[0].endsWith(":")) return { param: match[1]! };
  return { param: match[1]!, inline: readValue(scanner) };
}

/** One argument: an element, an `@(...)` array, or elements joined by commas (`'a', 'b'`). */
function readValue(scanner: Scanner): Value {
  const items: string[] = [];
  for (;;) {
    if (scanner.peek() === "@" && scanner.peek(1) === "(") items.push(...readArray(scanner));
    else if (scanner.peek() === "@" && scanner.peek(1) === "{") items.push(readBraced(scanner));
    else items.push(readElement(scanner, ",|").text);
    const before = scanner.pos;
    scanner.skipSpace();
    if (scanner.peek() !== ",") {
      scanner.pos = before;
      break;
    }
    scanner.pos++;
    scanner.skipSpace();
  }
  return { text: items.join(","), items };
}

function readArray(scanner: Scanner): string[] {
  scanner.pos += 2;
  const items: string[] = [];
  for (;;) {
    scanner.skipSpace(",");
    if (scanner.done()) throw new UsageError("unterminated @( ... )");
    if (scanner.peek() === ")") {
      scanner.pos++;
      return items;
    }
    items.push(readElement(scanner, ",)").text);
  }
}

/** `@{ ... }` kept as text (quotes and all) for parseHashtable. */
function readBraced(scanner: Scanner): string {
  const start = scanner.pos;
  scanner.pos += 2;
  while (!scanner.done() && scanner.peek() !== "}") {
    const char = scanner.peek();
    if (char === "'" || char === '"') readQuoted(scanner);
    else scanner.pos++;
  }
  if (scanner.done()) throw new UsageError("unterminated @{ ... }");
  scanner.pos++;
  return scanner.source.slice(start, scanner.pos);
}

/** Adjacent bare and quoted pieces up to whitespace or a stop character. */
function readElement(scanner: Scanner, stops: string): { text: string; quoted: boolean } {
  let text = "";
  let quoted = false;
  while (!scanner.done()) {
    const char = scanner.peek()!;
    if (/\s/.test(char) || stops.includes(char)) break;
    if (char === "'" || char === '"') {
      quoted ||= text === "";
      text += readQuoted(scanner);
    } else if (char === "`" && scanner.pos + 1 < scanner.source.length) {
      text += scanner.peek(1);
      scanner.pos += 2;
    } else {
      text += char;
      scanner.pos++;
    }
  }
  return { text, quoted };
}

const doubleQuoteEscapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", "0": "\0" };

/** 'literal' ('' is a quote) or "text" ("" and `" are quotes, `n a newline); `$variables` are not expanded. */
function readQuoted(scanner: Scanner): string {
  const quote = scanner.peek()!;
  scanner.pos++;
  let text = "";
  for (;;) {
    if (scanner.done()) throw new UsageError(`unterminated ${quote} quote`);
    const char = scanner.peek()!;
    scanner.pos++;
    if (char === quote) {
      if (scanner.peek() !== quote) return text;
      text += quote;
      scanner.pos++;
    } else if (char === "`" && quote === '"' && !scanner.done()) {
      const next = scanner.peek()!;
      text += doubleQuoteEscapes[next] ?? next;
      scanner.pos++;
    } else {
      text += char;
    }
  }
}
