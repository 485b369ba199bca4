# asgard's own image: the CLI (`asgard apply --profile kubernetes` in the scheduled CronJobs,
# `asgard serve` in the serving Deployment). Built from the repository root:
#   docker build -f docker/asgard.Dockerfile -t ghcr.io/asgard-data/asgard:0.1.0 .
# Everything is installed at build time; nothing is fetched when a container starts.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY templates ./templates
COPY site ./site
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /opt/asgard
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY --from=build /src/templates ./templates
COPY --from=build /src/site ./site
RUN ln -s /opt/asgard/bin/asgard.js /usr/local/bin/asgard
# The spec and its working copy of the state (state, lock and registry live in S3) sit here.
WORKDIR /srv/asgard
USER node
ENTRYPOINT []
CMD ["asgard", "--help"]
