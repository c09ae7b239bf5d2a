import { UsageError } from "./errors.ts";

// Objects print the way PowerShell formats them: a property list (Format-List) for one
// object, a table (Format-Table) for several, and a table whenever at most four
// properties are selected. `-Json` prints the same properties as JSON.

export type Field = string | number | boolean | null | Field[] | { [property: string]: Field };
export type Row = Record<string, Field>;

/** The properties an object type has, in order, and the ones a table of several shows. */
export interface View {
  properties: readonly string[];
  table: readonly string[];
}

/**
 * What a cmdlet printed: objects, or a message. A collection (what Get- cmdlets
 * answer) is a JSON array even with one element, so scripts see one shape.
 */
export type Output =
  | { kind: "objects"; rows: Row[]; collection: boolean; exitCode?: number }
  | { kind: "message"; text: string };

export const one = (row: Row, exitCode?: number): Output => ({
  kind: "objects",
  rows: [row],
  collection: false,
  ...(exitCode === undefined ? {} : { exitCode }),
});

export const many = (rows: Row[]): Output => ({ kind: "objects", rows, collection: true });

export interface Formatting {
  select?: string[];
  expandProperty?: string;
  json?: boolean;
}

/** Property names as written (any case) matched to the view's; unknown ones are a usage error. */
export function checkFormatting(view: View, formatting: Formatting): Formatting {
  const resolve = (written: string) => {
    const found = view.properties.find((p) => p.toLowerCase() === written.toLowerCase());
    if (!found) throw new UsageError(`no property ${written}; the properties are ${view.properties.join(", ")}`);
    return found;
  };
  const select = formatting.select?.flatMap((p) => (p === "*" ? [...view.properties] : [resolve(p)]));
  return {
    ...formatting,
    ...(select ? { select } : {}),
    ...(formatting.expandProperty ? { expandProperty: resolve(formatting.expandProperty) } : {}),
  };
}

export function render(output: Output, view: View | null, formatting: Formatting): string {
  if (output.kind === "message") return `${output.text}\n`;
  if (!view) throw new Error("an object output needs a view");
  const rows = output.rows;
  const several = rows.length > 1;
  if (formatting.expandProperty) {
    const property = formatting.expandProperty;
    const values = rows.flatMap((row) => {
      const value = row[property] ?? null;
      return Array.isArray(value) ? value : [value];
    });
    return values.map((value) => `${formatting.json ? JSON.stringify(value) : display(value)}\n`).join("");
  }
  const properties = formatting.select ?? (several ? view.table : view.properties);
  const pickProperties = (row: Row): Row => Object.fromEntries(properties.map((p) => [p, row[p] ?? null]));
  if (formatting.json) {
    const shown = formatting.select ? rows.map(pickProperties) : rows;
    return `${JSON.stringify(output.collection ? shown : shown[0], null, 2)}\n`;
  }
  if (rows.length === 0) return "";
  const asTable = formatting.select ? properties.length <= 4 : several;
  return asTable ? formatTable(rows, properties) : formatList(rows, properties);
}

function formatList(rows: Row[], properties: readonly string[]): string {
  const width = Math.max(...properties.map((p) => p.length));
  const blocks = rows.map((row) =>
    properties.map((p) => `${p.padEnd(width)} : ${display(row[p] ?? null)}`.trimEnd()).join("\n"),
  );
  return `\n${blocks.join("\n\n")}\n\n`;
}

function formatTable(rows: Row[], properties: readonly string[]): string {
  const cells = rows.map((row) => properties.map((p) => display(row[p] ?? null)));
  const widths = properties.map((p, i) => Math.max(p.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i]!))
      .join(" ")
      .trimEnd();
  const rule = properties.map((p) => "-".repeat(p.length));
  return `\n${[line([...properties]), line(rule), ...cells.map(line)].join("\n")}\n\n`;
}

/** PowerShell's rendering of a value inside a list or table. */
export function display(value: Field): string {
  if (value === null) return "";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (Array.isArray(value)) return `{${value.map(display).join(", ")}}`;
  if (typeof value === "object") {
    return `@{${Object.entries(value)
      .map(([k, v]) => `${k}=${display(v)}`)
      .join("; ")}}`;
  }
  return String(value);
}

/** PowerShell-cased enum values: PENDING -> Pending, ROLE_GROUP -> RoleGroup. */
export function pascal(value: string): string {
  return value
    .toLowerCase()
    .split("_")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("");
}
