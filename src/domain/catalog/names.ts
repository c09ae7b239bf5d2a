import type { PolicyType } from "../../db/client.ts";

// Enforcement points pass what the user typed, and PowerShell resolves cmdlet names
// case-insensitively and with or without their module. Every way of writing a
// governed name must therefore land on the same catalog entry: a spelling that
// misses it would be answered as another (ungoverned) task. Folding more spellings
// together only ever governs more, so the folding is generous.

/** Characters that render as nothing (zero-width space, joiners, soft hyphen, BOM, ...). */
const invisible = /[\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}]/gu;
/** Every dash and minus sign a keyboard, a word processor or a look-alike attack produces. */
const dashes = /[\p{Pd}\u2212\uFE63\uFF0D]/gu;
/** Backslash look-alikes (set minus, reverse solidus operator, small and fullwidth forms) and '/'. */
const separators = /[\\/\u2216\u29F5\u29F9\uFE68\uFF3C\uFF0F]+/gu;
const whitespace = /[\s\p{Z}]+/gu;

function fold(name: string): string {
  return name.normalize("NFKC").replace(invisible, "").replace(dashes, "-").toLowerCase();
}

/**
 * The canonical key of a catalog name. Tasks (cmdlets, which never contain spaces):
 * NFKC, invisible characters and all whitespace dropped, dashes unified, `/` and
 * backslash look-alikes as one `\`, lower case. Roles and role groups (whose names
 * have spaces): the same, with runs of whitespace as one space and the ends trimmed.
 */
export function canonicalName(type: PolicyType, name: string): string {
  const folded = fold(name);
  if (type === "TASK")
    return folded
      .replace(whitespace, "")
      .replace(separators, "\\")
      .replace(/^\\|\\$/g, "");
  return folded.replace(whitespace, " ").trim();
}

/** A task key without its module prefix ("exchange\\new-moverequest" -> "new-moverequest"). */
export function shortTaskKey(key: string): string {
  return key.slice(key.lastIndexOf("\\") + 1);
}

/** The lookup columns stored with a catalog entry. */
export function catalogKeys(type: PolicyType, name: string): { key: string; shortKey: string | null } {
  const key = canonicalName(type, name);
  return { key, shortKey: type === "TASK" ? shortTaskKey(key) : null };
}
