import { type DocumentNode, GraphQLError, Kind, type ValueNode, visit } from "graphql";
import type { Plugin } from "graphql-yoga";
import { jsonProblem, unsafeTextReason } from "../domain/validation.ts";

// Some arguments reach the database without passing a domain service (list filters,
// cursors, IDs of reads). This guard applies the domain's text rule to every string
// an operation carries, literal or variable, and checks the shape of cursors, before
// anything executes: bad input is a VALIDATION error naming the argument, never a 500.

/** Variables nest at most this deep (a JSON scalar's value included). */
const maxVariableDepth = 32;
const maxVariableBytes = 256 * 1024;
/** Every connection pages by a UUID primary key; its cursors are Pothos's `GPC:S:<uuid>`. */
const cursorPattern = /^GPC:S:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function refused(path: string, rule: string): GraphQLError {
  return new GraphQLError(`${path}: ${rule}`, { extensions: { code: "VALIDATION", field: path } });
}

function cursorProblem(value: unknown): string | null {
  if (value == null) return null;
  const decoded = typeof value === "string" ? Buffer.from(value, "base64").toString("utf8") : "";
  return cursorPattern.test(decoded) ? null : "must be a cursor this API returned (pageInfo.endCursor)";
}

/** The first problem with an operation's inputs, as a GraphQLError naming where it is. */
export function inputProblem(
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
): GraphQLError | null {
  for (const [name, value] of Object.entries(variables ?? {})) {
    const problem = jsonProblem(value, { maxDepth: maxVariableDepth, maxBytes: maxVariableBytes });
    if (problem) return refused(`$${name}`, problem);
  }
  let found: GraphQLError | null = null;
  // Literals are bounded by the token limit; still walked with a stack, like the variables.
  const stringsIn = (root: ValueNode, rootPath: string): void => {
    const stack: [ValueNode, string][] = [[root, rootPath]];
    while (stack.length > 0 && !found) {
      const [node, path] = stack.pop()!;
      if (node.kind === Kind.STRING) {
        const reason = unsafeTextReason(node.value);
        if (reason) found = refused(path, reason);
      } else if (node.kind === Kind.LIST) {
        node.values.forEach((item, index) => {
          stack.push([item, `${path}.${index}`]);
        });
      } else if (node.kind === Kind.OBJECT) {
        for (const field of node.fields) stack.push([field.value, `${path}.${field.name.value}`]);
      }
    }
  };
  visit(document, {
    Argument(argument) {
      if (found) return;
      const name = argument.name.value;
      stringsIn(argument.value, name);
      if (found || (name !== "after" && name !== "before")) return;
      const value =
        argument.value.kind === Kind.VARIABLE
          ? variables?.[argument.value.name.value]
          : argument.value.kind === Kind.STRING
            ? argument.value.value
            : argument.value.kind === Kind.NULL
              ? null
              : "";
      const problem = cursorProblem(value);
      if (problem) found = refused(name, problem);
    },
  });
  return found;
}

/** The envelop plugin: refuses an operation with bad input before it executes (HTTP, SSE and WebSocket). */
export function useInputGuard(): Plugin {
  const guard = ({
    args,
    setResultAndStopExecution,
  }: {
    args: { document: DocumentNode; variableValues?: Record<string, unknown> | null };
    setResultAndStopExecution: (result: { errors: GraphQLError[] }) => void;
  }) => {
    const problem = inputProblem(args.document, args.variableValues ?? undefined);
    if (problem) setResultAndStopExecution({ errors: [problem] });
  };
  return { onExecute: guard, onSubscribe: guard };
}
