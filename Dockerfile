# syntax=docker/dockerfile:1
# moleculer-shop: one image for every node type; SERVICES picks the node type at run time
# (api, customers, products, carts, orders, payments, notifications, loadgen; unset = all but loadgen in one process).
# The base tag is pinned to the Node version package.json pins for npm scripts.

# --- build: dev dependencies, TypeScript compile -------------------------------------------------------
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json moleculer.config.ts ./
COPY services ./services
COPY domain ./domain
COPY mixins ./mixins
COPY lib ./lib
COPY types ./types
COPY scripts ./scripts
COPY web ./web
# The TypeScript compile, then the storefront and the load generator's page (Vite, into dist/web).
RUN npm run build

# --- run: production dependencies only, non-root ------------------------------------------------------
FROM node:24.21.0-bookworm-slim AS run
ENV NODE_ENV=production \
    LOG_FORMAT=json \
    PORT=3000 \
    HEALTH_PORT=3001 \
    METRICS_PORT=3030
WORKDIR /app
COPY package.json package-lock.json ./
# Source maps of the dependencies are for debugging them, not for running the shop (about 8 MB).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force && find node_modules -name "*.map" -delete
COPY --from=build /app/dist ./dist
# The official image's unprivileged user (uid 1000). No secret is baked in: JWT_SECRET and the others come
# from the environment (Kubernetes Secrets, compose's environment).
USER node
# 3000: the gateway (api); 8089: the load generator's page (loadgen); 3001 health; 3030 metrics.
EXPOSE 3000 3001 3030 8089
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HEALTH_PORT || 3001) + '/live').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The launcher (scripts/start.ts) checks settings, ports and stores, then runs the node; it is PID 1's only
# child-free process and handles SIGTERM itself.
# --max-semi-space-size=4 (MB): a young generation large enough that the garbage collector costs little
# under load; --expose-gc: the launcher runs one memory-reducing collection once the node is ready, which
# brings an idle node back to ~88 MB, nodes on MongoDB to 85–92 MB (scripts/node-flags.ts, BENCHMARKS.md).
CMD ["node", "--max-semi-space-size=4", "--expose-gc", "dist/scripts/start.js"]
