import type { CodegenConfig } from "@graphql-codegen/cli";

const typesConfig = {
  scalars: { DateTime: "string", JSON: "unknown" },
  enumsAsTypes: true,
  useTypeImports: true,
};

// Typed documents: `graphql(...)` calls are checked against schema.graphql and
// return typed documents. The tests and the console (web/) get AST documents; the
// `elevate` command gets plain strings, so it sends them without loading graphql-js
// at every start.
const config: CodegenConfig = {
  schema: "schema.graphql",
  ignoreNoDocuments: true,
  emitLegacyCommonJSImports: false,
  generates: {
    "test/graphql/": {
      documents: ["test/**/*.ts", "!test/graphql/**"],
      preset: "client",
      config: typesConfig,
      presetConfig: { fragmentMasking: false },
    },
    "web/src/gql/": {
      documents: ["web/src/**/*.{ts,tsx}", "!web/src/gql/**"],
      preset: "client",
      config: typesConfig,
      presetConfig: { fragmentMasking: false },
    },
    "src/cli/graphql/": {
      documents: ["src/cli/**/*.ts", "!src/cli/graphql/**"],
      preset: "client",
      config: { ...typesConfig, documentMode: "string" },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
