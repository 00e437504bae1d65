# One image for the api, the worker, migrations and the admin CLI; docker-compose.yml picks the
# command. The processes run the JavaScript compiled into dist/ (`npm run build`, tools/build.ts).
# test/ops/image.test.ts replays the build steps below on the build context .dockerignore leaves
# (no Docker engine needed), and lints this file and docker-compose.yml, on every test run.

# Build: every package (esbuild, tsx, uplot and workbox are devDependencies), then dist/, web/dist and app/dist.
FROM node:24-bookworm-slim AS build
ENV npm_config_update_notifier=false \
    npm_config_fund=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit
COPY . .
RUN npm run build

# Run: the runtime packages only (no compiler, no embedded PostgreSQL), and the built files.
FROM node:24-bookworm-slim
ARG VERSION=dev
LABEL org.opencontainers.image.title="attendance-sync" \
      org.opencontainers.image.version="${VERSION}"
ENV NODE_ENV=production \
    npm_config_update_notifier=false \
    npm_config_fund=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY --from=build /app/app/dist ./app/dist

USER node
EXPOSE 3000
# Exec form, node itself: SIGTERM from `docker stop` (through compose's init) reaches node, which
# stops taking requests and lets those in flight finish (at most 10 s, api/server.ts).
CMD ["node", "dist/api/main.js"]
