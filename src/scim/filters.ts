import { ScimError } from "./errors.ts";
import { SCIMMY } from "./schemas.ts";

// SCIM filters (RFC 7644 §3.4.2.2) are parsed by SCIMMY into a disjunction of
// conjunctions; here each comparison on an attribute Elevate keeps becomes a
// condition of a database query, so filtering and paging happen in PostgreSQL.

type Where = Record<string, unknown>;
type Comparison = [string, unknown?] | ["not", string, unknown?];
interface Expression {
  [attribute: string]: Comparison | Comparison[] | Expression;
}

/** How one attribute's comparison (`eq`, `co`, `pr`...) becomes a condition. */
export type FilterField = (operator: string, value: unknown, attribute: string) => Where;

/** Matches nothing: a comparison no row can satisfy. */
const nothing: Where = { id: { in: [] } };

function invalid(attribute: string, rule: string): ScimError {
  return new ScimError(400, "invalidFilter", `filter: ${attribute} ${rule}`);
}

/** A string attribute stored in `column`; userName and displayName compare case-insensitively (caseExact false). */
export function textField(column: string, { caseExact = false, required = true } = {}): FilterField {
  const mode = caseExact ? {} : { mode: "insensitive" };
  return (operator, value, attribute) => {
    if (operator === "pr") return required ? {} : { NOT: { [column]: null } };
    if (typeof value !== "string") throw invalid(attribute, `${operator} needs a string value`);
    switch (operator) {
      case "eq":
        return { [column]: { equals: value, ...mode } };
      case "ne":
        return { NOT: { [column]: { equals: value, ...mode } } };
      case "co":
        return { [column]: { contains: value, ...mode } };
      case "sw":
        return { [column]: { startsWith: value, ...mode } };
      case "ew":
        return { [column]: { endsWith: value, ...mode } };
      case "gt":
      case "lt":
        return { [column]: { [operator]: value } };
      case "ge":
      case "le":
        return { [column]: { [`${operator[0]}te`]: value } };
      default:
        throw invalid(attribute, `does not support ${operator}`);
    }
  };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A resource's id; a value that is no UUID names no resource (and never reaches the uuid column). */
export function idField(where: (id: string) => Where = (id) => ({ id })): FilterField {
  return (operator, value, attribute) => {
    if (operator === "pr") return {};
    if (operator !== "eq" && operator !== "ne") throw invalid(attribute, "supports eq, ne and pr");
    const match = typeof value === "string" && uuidPattern.test(value) ? where(value.toLowerCase()) : nothing;
    return operator === "eq" ? match : { NOT: match };
  };
}

/** Entra ID writes booleans as "True" and "False", in filters too. */
function booleanOf(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  return null;
}

export function booleanField(column: string): FilterField {
  return (operator, value, attribute) => {
    if (operator === "pr") return {};
    const wanted = booleanOf(value);
    if (wanted === null || (operator !== "eq" && operator !== "ne")) {
      throw invalid(attribute, "supports eq and ne with true or false");
    }
    return { [column]: operator === "eq" ? wanted : !wanted };
  };
}

export function dateField(column: string): FilterField {
  const operators: Record<string, string> = { eq: "equals", gt: "gt", ge: "gte", lt: "lt", le: "lte" };
  return (operator, value, attribute) => {
    if (operator === "pr") return {};
    const at = typeof value === "string" ? new Date(value) : null;
    if (!at || Number.isNaN(at.getTime())) throw invalid(attribute, "needs a date and time");
    if (operator === "ne") return { NOT: { [column]: at } };
    const prisma = operators[operator];
    if (!prisma) throw invalid(attribute, `does not support ${operator}`);
    return { [column]: { [prisma]: at } };
  };
}

/**
 * An attribute with one value for every resource (a user's one address is their
 * `work`, `primary` address): the comparison holds for all of them or for none.
 */
export function constantField(constant: string | boolean): FilterField {
  return (operator, value, attribute) => {
    if (operator === "pr") return {};
    const wanted = typeof constant === "boolean" ? booleanOf(value) : typeof value === "string" ? value : null;
    if (wanted === null || (operator !== "eq" && operator !== "ne")) throw invalid(attribute, "supports eq and ne");
    const same =
      typeof constant === "string" ? constant.toLowerCase() === String(wanted).toLowerCase() : constant === wanted;
    return same === (operator === "eq") ? {} : nothing;
  };
}

/** An attribute whose values map to stored ones (userType "Guest" to GUEST). */
export function enumField(column: string, values: Record<string, string>): FilterField {
  return (operator, value, attribute) => {
    if (operator === "pr") return {};
    if (typeof value !== "string" || (operator !== "eq" && operator !== "ne")) {
      throw invalid(attribute, `supports eq and ne with ${Object.keys(values).join(", ")}`);
    }
    const stored = Object.entries(values).find(([name]) => name.toLowerCase() === value.toLowerCase())?.[1];
    const match = stored ? { [column]: stored } : nothing;
    return operator === "eq" ? match : { NOT: match };
  };
}

/**
 * The query condition for a SCIM filter over the attributes in `fields` (lower-case
 * paths such as `username` or `emails.value`); another attribute, operator or a
 * malformed filter is a 400 invalidFilter naming it.
 */
export function filterWhere(expression: string | undefined, fields: Record<string, FilterField>): Where {
  if (expression === undefined) return {};
  let parsed: Expression[];
  try {
    parsed = [...new SCIMMY.Types.Filter(expression)] as Expression[];
  } catch (error) {
    // The parser throws TypeError on some malformed input ("\"a\"") instead of its own error.
    if (error instanceof SCIMMY.Types.Error || error instanceof TypeError) {
      throw new ScimError(400, "invalidFilter", `filter: ${error.message}`);
    }
    throw error;
  }
  return { OR: parsed.map((conjunction) => ({ AND: conditions(conjunction, "", fields) })) };
}

/** `np`: the opposite of `pr`; an attribute every resource has is absent from none. */
function absent(present: Where): Where {
  return Object.keys(present).length === 0 ? nothing : { NOT: present };
}

function conditions(expression: Expression, prefix: string, fields: Record<string, FilterField>): Where[] {
  return Object.entries(expression).flatMap(([key, node]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!Array.isArray(node)) return conditions(node, path, fields);
    const comparisons = (Array.isArray(node[0]) ? node : [node]) as Comparison[];
    return comparisons.map((comparison) => {
      const negated = comparison[0] === "not";
      const [operator, value] = (negated ? comparison.slice(1) : comparison) as [string, unknown];
      const field = fields[path.toLowerCase()];
      if (!field) throw invalid(path, "cannot be filtered on");
      if (operator !== "pr" && operator !== "np" && value === undefined)
        throw invalid(path, `${operator} needs a value`);
      const where =
        operator === "np" ? absent(field("pr", undefined, path)) : field(operator.toLowerCase(), value, path);
      return negated ? { NOT: where } : where;
    });
  });
}
