# One image per app: docker build -f infra/docker/app.Dockerfile --build-arg APP=order .
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ARG APP
RUN npx nest build "${APP}" && npm prune --omit=dev

FROM node:22-bookworm-slim
ARG APP
ENV NODE_ENV=production APP=${APP}
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/apps/${APP} ./dist
RUN ln -s "dist/apps/${APP}/src/main.js" main.js
USER node
# Arguments go to the app: `docker run saga-platform/order --setup-only` migrates and exits.
# The flag is APP_NODE_FLAGS (libs/platform/src/node-flags.ts): AsyncLocalStorage without promise hooks.
ENTRYPOINT ["node", "--experimental-async-context-frame", "main.js"]
