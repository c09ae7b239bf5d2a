import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { GraphQLError } from "graphql";
import type { Prisma } from "../db/client.ts";
import type PrismaTypes from "../db/generated/pothos-types.ts";
import { getDatamodel } from "../db/generated/pothos-types.ts";
import { isAdmin, isEnforcer, isReader, readsApprovalConfiguration } from "../domain/access.ts";
import type { GraphQLContext } from "./context.ts";

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
  plugins: [ScopeAuthPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
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
    onUnusedQuery: process.env.NODE_ENV === "production" ? null : "warn",
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
  },
  errors: {
    directResult: true,
  },
});
