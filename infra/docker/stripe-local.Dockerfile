# The local Stripe-compatible server (tools/stripe-local) for compose.dev.yaml, run from source.
FROM node:22-bookworm-slim
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY libs ./libs
COPY tools/stripe-local ./tools/stripe-local
ENV STRIPE_LOCAL_HOST=0.0.0.0 STRIPE_LOCAL_PORT=12111
USER node
EXPOSE 12111
ENTRYPOINT ["node", "-r", "@swc-node/register", "tools/stripe-local/main.ts"]
