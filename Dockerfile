# One image for the api, the worker and migrations; docker-compose.yml picks the command.
# The processes run the JavaScript compiled into dist/ (`npm run build`, tools/build.ts).
FROM node:24-bookworm-slim

ENV NODE_ENV=production \
    npm_config_update_notifier=false \
    npm_config_fund=false
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit && npm cache clean --force

COPY . .
# The compiled server (dist/) and the dashboard's static files (web/dist), built once here: the
# processes run as `node` and cannot write them.
RUN npm run build

USER node
EXPOSE 3000
CMD ["npm", "run", "api"]
