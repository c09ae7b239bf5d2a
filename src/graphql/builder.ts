import { channel } from "node:diagnostics_channel";
import SchemaBuilder from "@pothos/core";
import ComplexityPlugin from "@pothos/plugin-complexity";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { GraphQLError } from "graphql";
import type { Prisma } from "../db/client.ts";
import type PrismaTypes from "../db/generated/pothos-types.ts";
import { getDatamodel } from "../db/generated/pothos-types.ts";
import { isAdmin, isEnforcer, isReader, readsApprovalConfiguration } from "../domain/access.ts";
import { decodeGlobalId, encodeGlobalId } from "../domain/global-id.ts";
import type { GraphQLContext } from "./context.ts";

/** Limits on one operation; the page sizes are also Prisma connections' own bounds. */
export const queryLimits = {
  complexity: 10_000,
  depth: 12,
  breadth: 300,
  defaultPage: 20,
  maxPage: 100,
  /** Pages inside pages (a grant's executions) are smaller. */
  maxNestedPage: 25,
};

/** Fields whose resolver loaded a relation it never read: `{ field: "Type.field" }`. */
export const unusedPrismaQueries = channel("elevate:unused-prisma-query");

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: Prisma.InputJsonValue; Output: unknown };
    ID: { Input: string; Output: string };
  };
  AuthScopes: { admin: boolean; reader: boolean; enforcer: boolean; approvalReader: boolean };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin, ComplexityPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  // The cost of an operation, computed with its variables before anything resolves: each
  // field costs 1, and what is selected under a list or a page counts once per item the
  // page may hold, so nested pages multiply. Applies to HTTP, SSE and WebSocket alike.
  complexity: {
    defaultComplexity: 1,
    defaultListMultiplier: 10,
    limit: { complexity: queryLimits.complexity, depth: queryLimits.depth, breadth: queryLimits.breadth },
    complexityError: (kind, result) => {
      const measure = kind.toLowerCase() as "complexity" | "depth" | "breadth";
      const max = { complexity: result.maxComplexity, depth: result.maxDepth, breadth: result.maxBreadth }[measure];
      return new GraphQLError(`Query too complex: ${measure} ${result[measure]} exceeds the limit of ${max}`, {
        extensions: { code: "QUERY_TOO_COMPLEX" },
      });
    },
  },
  scopeAuth: {
    authScopes: (ctx) => ({
      admin: isAdmin(ctx.actor),
      reader: isReader(ctx.actor),
      enforcer: isEnforcer(ctx.actor),
      approvalReader: readsApprovalConfiguration(ctx.actor),
    }),
    unauthorizedError: () => new GraphQLError("Forbidden", { extensions: { code: "FORBIDDEN" } }),
  },
  prisma: {
    client: (ctx) => ctx.db,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    defaultConnectionSize: queryLimits.defaultPage,
    maxConnectionSize: queryLimits.maxPage,
    // A relation loaded for a field that never read it; development logs it (src/main/server.ts).
    onUnusedQuery: (info) => {
      if (unusedPrismaQueries.hasSubscribers) {
        unusedPrismaQueries.publish({ field: `${info.parentType.name}.${info.fieldName}` });
      }
    },
  },
  relay: {
    clientMutationId: "omit",
    encodeGlobalID: (typename, id) => encodeGlobalId(typename, String(id)),
    decodeGlobalID: (globalID) => {
      const decoded = decodeGlobalId(globalID);
      if (!decoded) throw new GraphQLError(`${globalID} is not a global ID`, { extensions: { code: "VALIDATION" } });
      return decoded;
    },
    cursorType: "String",
    // The page is counted once, on the connection field; its edges list is that page.
    edgesFieldOptions: { complexity: { field: 1, multiplier: 1 } },
    defaultConnectionFieldOptions: {
      complexity: (args: { first?: number | null; last?: number | null }) => ({
        field: 1,
        multiplier: Math.max(1, args.first ?? args.last ?? queryLimits.defaultPage),
      }),
    },
  },
  errors: {
    directResult: true,
  },
});
