#!/bin/sh
# Prisma's native schema engine cannot be downloaded on these machines. `prisma generate` only needs this path
# to exist; any prisma command that would really run the engine fails here with a pointer to our WASM tooling.
echo "Switchboard runs migrations through the WASM schema engine: use npm run db:migrate / db:deploy / db:check" >&2
exit 1
