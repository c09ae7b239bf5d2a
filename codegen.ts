import type { CodegenConfig } from "@graphql-codegen/cli";

const typedDocuments = {
  preset: "client",
  config: {
    scalars: { DateTime: "string", JSON: "unknown" },
    enumsAsTypes: true,
    useTypeImports: true,
  },
  presetConfig: { fragmentMasking: false },
} as const;

// Typed documents: `graphql(...)` calls in test/ and in the console (web/) are checked
// against schema.graphql and return TypedDocumentNodes.
const config: CodegenConfig = {
  schema: "schema.graphql",
  ignoreNoDocuments: true,
  emitLegacyCommonJSImports: false,
  generates: {
    "test/graphql/": { ...typedDocuments, documents: ["test/**/*.ts", "!test/graphql/**"] },
    "web/src/gql/": { ...typedDocuments, documents: ["web/src/**/*.{ts,tsx}", "!web/src/gql/**"] },
  },
};

export default config;
