# The production image of Elevate: the compiled server and worker on Node.js 26, the
# Active LTS line since 2026-10-28 (maintained until April 2029). One image runs both:
#   API:    docker run elevate                                  (node dist/src/main/server.js)
#   worker: docker run elevate node dist/src/main/worker.js
# Everything installs from the npm registry alone.

FROM node:26-slim AS build
WORKDIR /app
ENV CHECKPOINT_DISABLE=1
COPY package.json package-lock.json ./
# No dependency install scripts: compiling needs none of them, and Prisma's would try to
# download native engines from outside the registry. `postinstall` (prisma generate) runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/token.ts ./scripts/
COPY src ./src
# The console: codegen's typed documents from schema.graphql, then Vite into web/dist.
COPY codegen.ts schema.graphql ./
COPY web ./web
RUN npm run generate && npm run build && npm run console:build

FROM node:26-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional too: the prisma CLI and typescript are optional peers of @prisma/client, which
# the lockfile marks devOptional, so --omit=dev alone would install them (and Prisma's engines).
# The other optional packages are a native msgpack accelerator and Cloudflare sockets, unused here.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:26-slim
ENV NODE_ENV=production
# glibc's allocator keeps what Node's threads free in an arena per thread and gives little
# of it back: two arenas, and trimming what is free above 128 KB, keep an idle worker at
# about 160 MB instead of 235 (docs/benchmarks.md, memory; the bench's BENCH_DIST=1 uses these).
ENV MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072
WORKDIR /app
# Owned by root and read-only to the app: the process cannot change its own code.
COPY package.json ./
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY emails ./emails
COPY prisma/migrations ./prisma/migrations
COPY prisma/guards.sql ./prisma/guards.sql
USER node
EXPOSE 4000 4001
# Liveness of the API; the worker's service overrides it with its own port (WORKER_HEALTH_PORT).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main/server.js"]
