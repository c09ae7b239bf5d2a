import {
  addCatalogEntry,
  catalogSearch,
  removeCatalogEntry,
  updateCatalogEntry,
} from "../../../domain/catalog/catalog-entries.service.ts";
import { builder } from "../../builder.ts";
import { PolicyScopeEnum, PolicyTypeEnum } from "../common/enums.ts";
import { mutationErrors } from "../common/mutation-result.ts";

export const CatalogEntryNode = builder.prismaNode("CatalogEntry", {
  id: { field: "id" },
  nullable: true,
  description: "Something a policy may target: a task (cmdlet), a role (set of tasks) or a role group (set of roles)",
  findUnique: (id, ctx) => ({ id, organizationId: ctx.actor.organizationId }),
  fields: (t) => ({
    type: t.expose("type", { type: PolicyTypeEnum }),
    scope: t.expose("scope", { type: PolicyScopeEnum }),
    name: t.exposeString("name"),
    description: t.exposeString("description", { nullable: true }),
    members: t.prismaField({
      type: ["CatalogEntry"],
      description: "Tasks of a role, roles of a role group",
      resolve: (query, entry, _args, ctx) =>
        ctx.db.catalogEntry.findMany({
          ...query,
          where: { parents: { some: { parentId: entry.id } } },
          orderBy: { name: "asc" },
        }),
    }),
  }),
});

builder.queryField("catalog", (t) =>
  t.prismaConnection(
    {
      type: "CatalogEntry",
      cursor: "id",
      description: "What approval policies may target",
      args: {
        type: t.arg({ type: PolicyTypeEnum }),
        search: t.arg.string({ description: "Part of the name, in any case" }),
      },
      totalCount: (_parent, args, ctx) =>
        ctx.db.catalogEntry.count({ where: catalogSearch(ctx.actor.organizationId, args) }),
      resolve: (query, _root, args, ctx) =>
        ctx.db.catalogEntry.findMany({
          ...query,
          where: catalogSearch(ctx.actor.organizationId, args),
          orderBy: { id: "asc" },
        }),
    },
    { name: "CatalogEntryConnection" },
    { name: "CatalogEntryEdge" },
  ),
);

const AddCatalogEntryInput = builder.inputType("AddCatalogEntryInput", {
  fields: (t) => ({
    type: t.field({ type: PolicyTypeEnum, required: true }),
    scope: t.field({ type: PolicyScopeEnum, defaultValue: "EXCHANGE" }),
    name: t.string({ required: true, description: 'e.g. "Contoso\\\\Reset-Vault"' }),
    description: t.string(),
    members: t.stringList({ description: "Task names of a role, role names of a role group" }),
  }),
});

builder.mutationField("addCatalogEntry", (t) =>
  t.field({
    type: CatalogEntryNode,
    errors: mutationErrors("AddCatalogEntryResult"),
    args: { input: t.arg({ type: AddCatalogEntryInput, required: true }) },
    resolve: (_root, { input }, ctx) => addCatalogEntry(ctx.services, input),
  }),
);

const UpdateCatalogEntryInput = builder.inputType("UpdateCatalogEntryInput", {
  description: "Fields left out keep their value",
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    description: t.string(),
    members: t.stringList({ description: "Replaces a role's tasks or a role group's roles" }),
  }),
});

const RemoveCatalogEntryInput = builder.inputType("RemoveCatalogEntryInput", {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

builder.mutationField("updateCatalogEntry", (t) =>
  t.field({
    type: CatalogEntryNode,
    description: "Set-ElevatedAccessCatalogEntry (admins); what grants cover follows at once",
    errors: mutationErrors("UpdateCatalogEntryResult"),
    args: { input: t.arg({ type: UpdateCatalogEntryInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateCatalogEntry(ctx.services, input),
  }),
);

builder.mutationField("removeCatalogEntry", (t) =>
  t.prismaField({
    type: "CatalogEntry",
    description: "Not while a policy targets it or requests were filed for it (admins)",
    errors: mutationErrors("RemoveCatalogEntryResult"),
    args: { input: t.arg({ type: RemoveCatalogEntryInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) => removeCatalogEntry(ctx.services, input),
  }),
);
