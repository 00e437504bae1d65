# One image for the api, the worker and migrations; docker-compose.yml picks the command.
# TypeScript runs through tsx (a runtime dependency): there is no build step.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    npm_config_update_notifier=false \
    npm_config_fund=false
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit && npm cache clean --force

COPY . .
# The dashboard's static files (web/dist), built once here: the api runs as `node` and cannot write them.
RUN npx tsx web/build.ts

USER node
EXPOSE 3000
CMD ["npm", "run", "api"]
