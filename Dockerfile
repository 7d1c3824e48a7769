# Parley: tests by default, `docker run --rm parley npm run demo` for the demo.
FROM node:20-bookworm-slim

# better-sqlite3 compiles from source when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so the layer is reused while only sources change.
COPY package.json package-lock.json ./
RUN npm ci

COPY . .
RUN npm run build:contracts

CMD ["npm", "test"]
