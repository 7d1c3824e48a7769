# Parley in a container: the README's two commands.
#   docker build -t parley .
#   docker run --rm parley                  # npm test: the whole test suite on a real local chain
#   docker run --rm parley npm run demo     # the demo
#
# Not built here: no image registry is reachable from this project's machines, so the base image
# cannot be pulled and this file has never been built. Its steps are .ci/run's, in the same order
# (Debian's chromium for the live view's browser test, npm ci, then npm test), which CI runs on
# every submission: keep the two identical. Two additions: what node:20-bookworm-slim lacks and
# CI's machine has (python3, make and g++, for better-sqlite3 when no prebuilt binary fits), and
# the contracts compiled into the image (npm test's pretest then finds them up to date).
FROM node:20-bookworm-slim

RUN apt-get update \
 && apt-get install -y python3 make g++ \
 && apt-get install -y chromium \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so the layer is reused while only sources change.
COPY package.json package-lock.json ./
RUN npm ci

COPY . .
# npm test runs `npm run build:contracts` first (pretest); doing it here keeps it out of every run.
RUN npm run build:contracts

CMD ["npm", "test"]
