# robocam in one container (apps/robocam): the signaling server, the viewer page and the sender in
# one Node process on PORT (8080): the page, the signaling WebSocket (/signal), WHEP, /metrics, /stats,
# snapshots, /doctor (METRICS_TOKEN protects those four) and one GET /healthz (200 once the sender
# is registered). The single-container option for one robot, instead of docker/compose.yaml's
# three. Everything else is as in docker/sender.Dockerfile.
# Build from the repository root:  docker build -f docker/robocam.Dockerfile -t robocam .
# Run:  docker run --network host [--device /dev/video0 --group-add video -e CAMERAS=/dev/video0] robocam
#   (or publish 8080/tcp and a fixed RTC_PORT_RANGE/udp with ANNOUNCED_IPS, as compose.yaml describes)
#
# The first stages are the same in all three docker/*.Dockerfile, so the builder's layer cache
# shares them: the full `npm ci` runs once for the three images, and again only when a
# package.json or package-lock.json changes.

# --- manifests: the lockfile and every workspace's package.json, nothing else ---------------------
FROM node:24-bookworm-slim AS manifests
WORKDIR /src
COPY package.json package-lock.json ./
COPY apps apps
COPY libs libs
RUN find apps libs -type f ! -name package.json -delete && find apps libs -depth -type d -empty -delete

# --- deps: all dependencies, dev ones included, for the build -------------------------------------
FROM node:24-bookworm-slim AS deps
# SKIP_FFMPEG: node-av's postinstall would download an ffmpeg CLI nobody needs (its FFmpeg library
# comes in the optional dependency @seydx/node-av-linux-x64, which must not be omitted).
ENV SKIP_FFMPEG=true NX_DAEMON=false NX_NO_CLOUD=true CI=true
WORKDIR /repo
COPY docker/npm-ci.mjs /usr/local/lib/robocam/npm-ci.mjs
COPY --from=manifests /src/ ./
RUN --mount=type=cache,target=/root/.npm node /usr/local/lib/robocam/npm-ci.mjs

# --- build: compile the app and the libraries it uses with Nx -------------------------------------
FROM deps AS build
COPY nx.json tsconfig.base.json tsconfig.json eslint.config.mjs jest.preset.mjs ./
COPY libs libs
COPY apps apps
# /out gets package.json + dist of every workspace package that was built (no type declarations).
RUN npx nx run-many -t build -p robocam --skipSync --outputStyle=static \
  && for d in apps/* libs/*; do \
       if [ -d "$d/dist" ]; then mkdir -p "/out/$d" && cp -R "$d/package.json" "$d/dist" "/out/$d/" || exit 1; fi; \
     done \
  && find /out \( -name '*.tsbuildinfo' -o -name '*.d.ts' -o -name '*.d.ts.map' \) -delete

# --- prune: this app's production dependencies only -----------------------------------------------
FROM node:24-bookworm-slim AS prune
ENV SKIP_FFMPEG=true CI=true
WORKDIR /repo
COPY docker/npm-ci.mjs /usr/local/lib/robocam/npm-ci.mjs
COPY --from=manifests /src/ ./
RUN --mount=type=cache,target=/root/.npm \
  node /usr/local/lib/robocam/npm-ci.mjs --omit=dev --workspace=@robocam/robocam-app --include-workspace-root=false
# Workspace packages are symlinks (node_modules/@robocam/x -> ../../libs/x). Each one this app needs
# at run time (`npm ls --omit=dev`) gets the compiled output of its folder, keeping the repository
# layout under /app; links npm made for anything else (dev-only workspace links) are dropped.
COPY --from=build /out /out
RUN mkdir /app \
  && npm ls --omit=dev --all --parseable --workspace=@robocam/robocam-app > /tmp/runtime-packages \
  && for link in $(grep /node_modules/@robocam/ /tmp/runtime-packages); do \
       dir=$(readlink "$link") && dir=${dir#../../} || exit 1; \
       [ -d "/out/$dir/dist" ] || { echo "no build output for $dir" >&2; exit 1; }; \
       mkdir -p "/app/$dir" && cp -R "/out/$dir/." "/app/$dir/" || exit 1; \
     done \
  && for link in node_modules/@robocam/*; do \
       dir=$(readlink "$link") && [ -d "/app/${dir#../../}" ] || rm "$link" || exit 1; \
     done \
  && mv node_modules /app/

# --- runtime ----------------------------------------------------------------------------------------
FROM node:24-bookworm-slim
# tini as PID 1: forwards SIGTERM to node and reaps zombies. v4l-utils: @robocam/capture-v4l2
# discovers camera modes with v4l2-ctl when it is there (complete frame-rate lists). jemalloc as
# the allocator: werift frees an OpenSSL context per packet and FFmpeg large frame buffers, memory
# glibc's malloc keeps while jemalloc hands it back — with it the soak's RSS stays flat (bench/
# README.md, "Soak"). The link gives it one path on every architecture. (apt-get clean: drop the
# 80 MB of package caches, in case the base image does not do it itself.)
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini v4l-utils libjemalloc2 \
  && jemalloc="$(find /usr/lib -name libjemalloc.so.2 -print -quit)" \
  && [ -n "$jemalloc" ] && ln -s "$jemalloc" /usr/local/lib/libjemalloc.so.2 \
  && apt-get clean \
  && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log
ENV NODE_ENV=production LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
WORKDIR /app
COPY --from=prune /app ./
USER node
# Media is WebRTC over UDP: host networking, or a fixed RTC_PORT_RANGE published with ANNOUNCED_IPS
# (see docker/compose.yaml). 8080 is everything else.
EXPOSE 8080
# Slim images have no curl: the check is a one-line Node fetch against /healthz on PORT, which
# answers 200 only while the sender is registered with the signaling in the same process.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "apps/robocam/dist/main.js"]
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="robocam" \
  org.opencontainers.image.description="robocam in one process: signaling, viewer page and sender, streaming robot cameras to browsers over WebRTC" \
  org.opencontainers.image.source="https://github.com/robocam/robocam" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.licenses="MIT"
