# Multi-stage: compile TypeScript with dev dependencies, ship only production ones.
# No `# syntax=` line: it would make BuildKit fetch a frontend image from Docker Hub for nothing.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# sources are not here yet, so skip `prepare` (the build runs below)
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY routes ./routes
COPY schemas ./schemas
# the server only (no bench/), and no source maps: the image carries no sources to map to
RUN npx tsc -p tsconfig.build.json --sourceMap false

FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` compiles TypeScript, which this stage has no compiler for.
# Type declarations, docs and source maps are a quarter of node_modules and nothing reads them.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
      -o -iname '*.md' -o -iname '*.markdown' \) -delete

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    LOCAL_DATA_DIR=/data
WORKDIR /app
# code owned by root, read-only to the user that runs it
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# state lives only in /data: owned by node (uid 1000) and writable by group 0, so OpenShift's
# random uid (always in group 0) can use the image's volume too
RUN mkdir -p /data && chown node:0 /data && chmod 2775 /data
USER node
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# exec form: node is PID 1 with no shell in between, so SIGTERM reaches it and it drains
# (close-with-grace installs the handler; PID 1 has no default one). The drain ends within
# SHUTDOWN_TIMEOUT_MS (8 s), inside docker stop's 10 s; raise both together (--stop-timeout).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/server.js"]
