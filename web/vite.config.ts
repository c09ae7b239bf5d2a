import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API serves the build at / and replaces this placeholder with a fresh nonce per
// response (src/http/console.ts names the same string).
const cspNoncePlaceholder = "__ELEVATE_CSP_NONCE__";

// The API the dev server (npm run console:dev) forwards to.
const api = process.env.ELEVATE_API_URL ?? "http://localhost:4000";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  html: { cspNonce: cspNoncePlaceholder },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  server: {
    proxy: {
      "/graphql": { target: api, ws: true },
      "/auth/config": api,
      "/dev/users": api,
      "/dev/token": api,
    },
  },
});
