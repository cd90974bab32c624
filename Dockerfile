# syntax=docker/dockerfile:1

# Node.js 26, the Active LTS line since October 2026 (Node 20 reached its end of life in April
# 2026), pinned to one release so that a rebuild gets the same runtime: raise it here, for both
# stages at once. better-sqlite3 supports Node 26 from 12.10 on. Debian 13 (trixie), because
# Debian 12 left regular security support in June 2026.
ARG NODE_IMAGE=node:26.11.1-trixie-slim

# Build: compile TypeScript and the better-sqlite3 native module (for this Node release).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs ./scripts/
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Run: production dependencies and compiled code only, as an unprivileged user. package.json
# comes along for `latchkey --version`.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY openapi.yaml ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/cli.js", "serve"]
