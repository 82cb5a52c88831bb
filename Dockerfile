# syntax=docker/dockerfile:1
# One image per function or trigger:
#   docker build --build-arg FUNCTION=hold-seat -t concert/hold-seat .
# The build stage bundles the function with esbuild (scripts/build.ts) into dist/$FUNCTION: one
# self-contained ESM file plus the Redis Lua scripts. The runtime stage holds that directory and Node only:
# no node_modules, no dev dependencies, no sources. The app handles SIGTERM itself (shared/serve.ts drains
# and closes), so node runs as PID 1 with no init wrapper.
ARG NODE_IMAGE=node:24.11-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.ts scripts/build.ts
COPY shared/ shared/
COPY functions/ functions/
COPY triggers/ triggers/
ARG FUNCTION
RUN test -n "$FUNCTION" || { echo 'missing --build-arg FUNCTION=<name>' >&2; exit 64; }
RUN npm run build -- "$FUNCTION" && test -f "dist/$FUNCTION/index.mjs" && test -d "dist/$FUNCTION/lua" && test -d "dist/$FUNCTION/sql"

FROM ${NODE_IMAGE} AS runtime
ARG FUNCTION
LABEL org.opencontainers.image.title="concert-${FUNCTION}" \
      org.opencontainers.image.description="Concert ticketing function ${FUNCTION} (Hono on Node, Knative container contract)"
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    SERVICE_NAME=${FUNCTION}
WORKDIR /app
COPY --from=build --chown=1000:1000 /app/dist/${FUNCTION}/ ./
# Numeric uid: Kubernetes can verify runAsNonRoot only for a numeric user (1000 is `node` in the image).
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "index.mjs"]
